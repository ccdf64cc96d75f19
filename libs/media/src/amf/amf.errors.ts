/**
 * Typed errors of the AMF0/AMF3 codecs. Decoders throw nothing else on malformed input.
 */
export type AmfErrorCode =
  /** the buffer ended inside a value */
  | 'TRUNCATED'
  /** a type marker this codec does not know */
  | 'UNKNOWN_MARKER'
  /** a known marker that is not supported (movieclip, recordset, unknown externalizable class...) */
  | 'UNSUPPORTED_MARKER'
  /** nesting deeper than the configured limit */
  | 'DEPTH_EXCEEDED'
  /** too many decoded values (including those reachable through references) */
  | 'TOO_MANY_VALUES'
  /** a reference to an entry that does not exist, or to an object still being decoded (a cycle) */
  | 'BAD_REFERENCE'
  /** a length field that cannot fit in the buffer or in the format */
  | 'BAD_LENGTH'
  /** an object-end marker where a value was expected */
  | 'UNEXPECTED_OBJECT_END'
  /** encoder: a JS value with no AMF representation (function, symbol, bigint, ...) */
  | 'UNSUPPORTED_TYPE'
  /** encoder: a cyclic structure */
  | 'CYCLE';

export class AmfError extends Error {
  constructor(
    public readonly code: AmfErrorCode,
    message: string,
    /** byte offset in the decoded buffer, when known */
    public readonly offset?: number,
  ) {
    super(message);
    this.name = 'AmfError';
  }
}
