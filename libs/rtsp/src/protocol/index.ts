/** The pure RTSP protocol layer: framing, headers, Transport, authentication, URLs. */
export * from './rtsp-message';
export * from './rtsp-headers';
export * from './rtsp-transport';
export * from './rtsp-auth';
export * from './rtsp-url';
