/** RTMP wire protocol: pure code (Buffers in, Buffers out). */
export * from './rtmp.errors';
export * from './messages';
export * from './handshake';
export * from './chunk-decoder';
export * from './chunk-encoder';
export * from './commands';
