/**
 * The one error type of the pure media library: every parser throws only this on bad input,
 * so an edge can tell a malformed packet (close that client's session) from a bug.
 */
export type MediaErrorCode =
  /** the input ended inside a field */
  | 'TRUNCATED'
  /** an exp-Golomb code longer than 32 bits */
  | 'BAD_EXP_GOLOMB'
  /** H.264/H.265 parameter sets */
  | 'BAD_SPS'
  | 'BAD_PPS'
  | 'BAD_VPS'
  /** a NAL unit whose header is invalid or of an unexpected type */
  | 'BAD_NAL'
  /** a NAL length prefix (AVCC/HVCC framing) that points past the end */
  | 'BAD_NAL_LENGTH'
  /** avcC / hvcC / av1C / vpcC */
  | 'BAD_RECORD'
  /** AV1 OBU framing or sequence header */
  | 'BAD_OBU'
  /** VP9 uncompressed frame header */
  | 'BAD_VP9_HEADER'
  /** VP8 frame tag or key frame header */
  | 'BAD_VP8_HEADER'
  /** AAC AudioSpecificConfig */
  | 'BAD_ASC'
  /** ADTS header */
  | 'BAD_ADTS'
  /** Opus ID header */
  | 'BAD_OPUS_HEAD'
  /** FLV file header */
  | 'BAD_FLV_HEADER'
  /** FLV tag framing or tag body */
  | 'BAD_TAG'
  /** an FLV tag larger than the configured limit */
  | 'TAG_TOO_LARGE'
  /** script data (onMetaData) that is not name + value */
  | 'BAD_SCRIPT_DATA'
  /** a value a builder cannot represent (too large for its field, unknown codec, ...) */
  | 'UNSUPPORTED'
  /** a builder was given an argument it cannot use */
  | 'BAD_ARGUMENT'
  /** SDP (RFC 8866) that is not a session description: no v= line, a bad m= line, over a limit */
  | 'BAD_SDP'
  /** RTCP (RFC 3550 6.4-6.6, RFC 4585, RFC 5104) with a bad version, length, count or padding */
  | 'BAD_RTCP'
  /** an RTP payload whose own framing is inconsistent (RFC 3640 AU headers, RFC 6416 LATM lengths) */
  | 'BAD_RTP_PAYLOAD'
  /** an MPEG-4 LATM StreamMuxConfig (RFC 6416 config=) that cannot be read */
  | 'BAD_STREAM_MUX_CONFIG'
  /** Ogg page framing (capture pattern, version, CRC) or Ogg Opus headers */
  | 'BAD_OGG';

export class MediaError extends Error {
  constructor(
    public readonly code: MediaErrorCode,
    message?: string,
  ) {
    super(message ?? code);
    this.name = 'MediaError';
  }
}

/** Narrowing helper for catch blocks. */
export function isMediaError(e: unknown): e is MediaError {
  return e instanceof MediaError;
}
