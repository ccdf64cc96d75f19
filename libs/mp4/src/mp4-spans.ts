import type { ByteSource, Mp4Span } from '@m7s/media';

/** Largest piece read from a source at once. */
export const READ_CHUNK = 1024 * 1024;

/** Joins source spans that continue each other (same source, next offset) so sources are read in large pieces. */
export function coalesceSpans(spans: readonly Mp4Span[]): Mp4Span[] {
  const out: Mp4Span[] = [];
  for (const span of spans) {
    const last = out[out.length - 1];
    if ('source' in span && last && 'source' in last && last.source === span.source && last.offset + last.length === span.offset) {
      out[out.length - 1] = { source: last.source, offset: last.offset, length: last.length + span.length };
    } else out.push(span);
  }
  return out;
}

export function spanLength(span: Mp4Span): number {
  return 'data' in span ? span.data.length : span.length;
}

/**
 * The bytes [from, to) of the file the spans make, in pieces of at most READ_CHUNK, read from the sources
 * as they are needed (never the whole file in memory).
 */
export async function* readSpans(spans: readonly Mp4Span[], sources: readonly ByteSource[], from: number, to: number): AsyncGenerator<Buffer> {
  let position = 0;
  for (const span of spans) {
    const start = position;
    const end = start + spanLength(span);
    position = end;
    if (end <= from) continue;
    if (start >= to) return;
    const a = Math.max(from, start) - start;
    const b = Math.min(to, end) - start;
    if ('data' in span) {
      yield span.data.subarray(a, b);
      continue;
    }
    for (let at = a; at < b; at += READ_CHUNK) {
      const length = Math.min(READ_CHUNK, b - at);
      const piece = await sources[span.source].read(span.offset + at, length);
      if (piece.length !== length) throw new Error(`source ${span.source} ended early at ${span.offset + at + piece.length}`);
      yield piece;
    }
  }
}
