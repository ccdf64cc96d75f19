export * from './offer';
export * from './h264-profile';
export * from './codec-choice';
export * from './sdpfrag';
export * from './candidates';
export * from './link-header';
export * from './rtp-format';
