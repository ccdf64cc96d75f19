export type StreamAction = 'publish' | 'play';

export interface StreamAccessRequest {
  action: StreamAction;
  /** rtmp, rtmps, http-flv, ws-flv, rtsp... */
  protocol: string;
  /** Normalized stream path (live/cam1). */
  streamPath: string;
  query: URLSearchParams;
  remoteAddress: string;
  /** The user a protocol's own authentication (RTSP Basic/Digest) identified, told to the hook. */
  username?: string;
}

/** A name and password a protocol's own authentication accepts (RTSP Basic/Digest), and what it may do. */
export interface StreamCredential {
  username: string;
  password: string;
  publish: boolean;
  play: boolean;
}

/**
 * Stream authorization, one service for every protocol (URL signing and the external hook, in libs/auth).
 * Protocol adapters await `authorize` before registry.publish / registry.subscribe; it rejects with a
 * StreamError('UNAUTHORIZED') that each edge maps to its own refusal.
 */
export abstract class StreamAuth {
  abstract authorize(request: StreamAccessRequest): Promise<void>;
  /** Whether protocols with their own authentication (RTSP) must ask for credentials for this action. */
  abstract credentialsRequired(action: StreamAction): boolean;
  /** The configured credential of a user name, if any. */
  abstract findCredential(username: string): StreamCredential | undefined;
}
