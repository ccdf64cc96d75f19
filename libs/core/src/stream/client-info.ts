/** Who is publishing or playing, as the protocol adapter saw it. */
export interface ClientInfo {
  protocol: string;
  remoteAddress: string;
  /** The URL query, kept for per-stream policy overrides and for auth. */
  query: URLSearchParams;
}
