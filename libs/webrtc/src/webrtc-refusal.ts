import { httpStatusOfStreamError, StreamError } from '@m7s/core';
import { MediaError } from '@m7s/media';

/** A WHIP/WHEP request refused with an HTTP status and a text reason (RFC 9725 leaves the body to the server). */
export class WebrtcRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'WebrtcRefusal';
  }
}

/** The status and reason an error is answered with; undefined for a bug (answered 500, logged). */
export function refusalOf(error: unknown): { status: number; reason: string } | undefined {
  if (error instanceof WebrtcRefusal) return { status: error.status, reason: error.message };
  if (error instanceof StreamError) return { status: httpStatusOfStreamError(error.code), reason: `${error.code}: ${error.message}` };
  if (error instanceof MediaError) return { status: 400, reason: `${error.code}: ${error.message}` };
  return undefined;
}
