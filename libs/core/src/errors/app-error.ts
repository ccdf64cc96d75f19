/**
 * Codes of the platform's typed errors (API, auth, queues). Named after the gRPC status codes so each edge
 * maps them once: the HTTP filter to a status, gRPC to its status code.
 */
export type AppErrorCode =
  | 'INVALID_ARGUMENT' // 400
  | 'UNAUTHENTICATED' // 401
  | 'PERMISSION_DENIED' // 403
  | 'NOT_FOUND' // 404
  | 'ALREADY_EXISTS' // 409
  | 'FAILED_PRECONDITION' // 409
  | 'PAYLOAD_TOO_LARGE' // 413
  | 'RESOURCE_EXHAUSTED' // 429 (rate limits)
  | 'UNAVAILABLE' // 503
  | 'INTERNAL'; // 500

export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
    /** Extra fields for the client (which field was wrong...). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}
