import { Injectable, PipeTransform } from '@nestjs/common';
import { AppError } from '@m7s/core';

const MAX_ID = 2 ** 31 - 1;

/** A positive integer id from the path (the range of every database's integer column). */
@Injectable()
export class ParseIdPipe implements PipeTransform<unknown, number> {
  transform(value: unknown): number {
    const text = String(value);
    const id = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(id) || id < 1 || id > MAX_ID) throw new AppError('INVALID_ARGUMENT', `id must be an integer from 1 to ${MAX_ID}, got ${JSON.stringify(text.slice(0, 40))}`);
    return id;
  }
}

/** Parses an id given to a service (gRPC callers bypass the pipe). */
export function parseId(value: unknown): number {
  return new ParseIdPipe().transform(value);
}
