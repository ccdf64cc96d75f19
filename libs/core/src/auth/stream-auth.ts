export type StreamAction = 'publish' | 'play';

export interface StreamAccessRequest {
  action: StreamAction;
  /** rtmp, rtmps, http-flv, ws-flv, rtsp... */
  protocol: string;
  /** Normalized stream path (live/cam1). */
  streamPath: string;
  query: URLSearchParams;
  remoteAddress: string;
}

/**
 * Stream authorization, one service for every protocol (URL signing and the external hook, in libs/auth).
 * Protocol adapters await `authorize` before registry.publish / registry.subscribe; it rejects with a
 * StreamError('UNAUTHORIZED') that each edge maps to its own refusal.
 */
export abstract class StreamAuth {
  abstract authorize(request: StreamAccessRequest): Promise<void>;
}
