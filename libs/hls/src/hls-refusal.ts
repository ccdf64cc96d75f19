import type { Response } from 'express';
import { httpStatusOfStreamError, StreamError } from '@m7s/core';

/** An HLS request refused with an HTTP status and a code (bad query, no such segment, not ready...). */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Answers a refused HLS request with its status and code as JSON; rethrows anything else. */
export function refuseHlsRequest(res: Response, error: unknown): void {
  let status: number;
  let code: string;
  if (error instanceof HttpRefusal) ({ status, code } = error);
  else if (error instanceof StreamError) ({ status, code } = { status: httpStatusOfStreamError(error.code), code: error.code });
  else throw error;
  if (res.destroyed || res.headersSent) return;
  res.removeHeader('Cache-Control');
  res.status(status).json({ code, message: error.message });
}
