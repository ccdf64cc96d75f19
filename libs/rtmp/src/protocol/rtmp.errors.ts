/**
 * Typed errors of the RTMP wire code. Everything in src/protocol throws only this (and AmfError is
 * wrapped into it by the command decoders). After any error the decoder/handshake state is
 * undefined: the session must close the connection.
 */
export type RtmpProtocolErrorCode =
  /** C0/S0 is not 3 (6 = RTMPE encryption, not supported) */
  | 'BAD_VERSION'
  /** a message longer than the configured limit, or than 0xFFFFFF when encoding */
  | 'MESSAGE_TOO_LARGE'
  /** more distinct chunk stream ids than the configured limit */
  | 'TOO_MANY_CHUNK_STREAMS'
  /** partially received messages would hold more bytes than the configured limit */
  | 'BUFFER_LIMIT'
  /** SetChunkSize outside the accepted bounds (0, or the high bit set, or the configured bounds) */
  | 'BAD_CHUNK_SIZE'
  /** a type 1/2/3 chunk header on a chunk stream id never introduced by a type 0 header */
  | 'NO_PREVIOUS_HEADER'
  /** a chunk stream id outside 2..65599 (encoder) */
  | 'BAD_CSID'
  /** a protocol control / user control / aggregate message whose payload is malformed */
  | 'BAD_MESSAGE'
  /** a command or data message that is not valid AMF or has no name */
  | 'BAD_COMMAND'
  /** an argument out of range given to a builder */
  | 'BAD_ARGUMENT';

export class RtmpProtocolError extends Error {
  constructor(
    public readonly code: RtmpProtocolErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RtmpProtocolError';
  }
}
