export type StreamErrorCode =
  | 'STREAM_BUSY' // a publisher already holds the path
  | 'STREAM_NOT_FOUND'
  | 'BAD_STREAM_PATH'
  | 'BAD_QUERY'
  | 'WAIT_TIMEOUT' // no publisher came in time
  | 'PUBLISH_TIMEOUT' // the publisher stopped sending
  | 'IDLE_TIMEOUT' // nobody played the stream
  | 'KICKED' // replaced by a new publisher
  | 'STOPPED' // stopped by an operator
  | 'UNAUTHORIZED'
  | 'PLAYER_FAILED' // serializing the stream for this player failed (e.g. a codec its format cannot carry)
  | 'SHUTDOWN';

/** Typed engine error; each protocol edge maps the code to its own status (RTMP onStatus, HTTP status...). */
export class StreamError extends Error {
  constructor(
    readonly code: StreamErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StreamError';
  }
}

const HTTP_STATUS: Partial<Record<StreamErrorCode, number>> = {
  STREAM_NOT_FOUND: 404,
  WAIT_TIMEOUT: 404,
  STOPPED: 404,
  STREAM_BUSY: 409,
  UNAUTHORIZED: 403,
  SHUTDOWN: 503,
};

/** The HTTP status a media route (HTTP-FLV, fMP4, HLS) answers for a stream error it refuses a player with. */
export function httpStatusOfStreamError(code: StreamErrorCode): number {
  return HTTP_STATUS[code] ?? 400;
}
