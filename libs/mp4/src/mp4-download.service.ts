import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppError, ConfigService } from '@m7s/core';
import { layoutProgressiveMp4 } from '@m7s/media';
import type { Mp4Config } from './mp4.config';
import { Mp4Recordings } from './mp4-recordings';
import { coalesceSpans, readSpans } from './mp4-spans';

/**
 * A time query parameter: ms since the epoch, Unix seconds (a number below 1e11), or an ISO 8601 time.
 * Throws INVALID_ARGUMENT when missing or unreadable.
 */
export function parseTimeParam(query: URLSearchParams, name: string): number {
  const value = query.get(name);
  if (!value) throw new AppError('INVALID_ARGUMENT', `query ${name} is required (ms since the epoch, Unix seconds or ISO 8601)`);
  const time = parseTime(value);
  if (time === undefined) throw new AppError('INVALID_ARGUMENT', `query ${name}=${value.slice(0, 40)}: not a time`);
  return time;
}

export function parseTime(value: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    return n < 1e11 ? Math.round(n * 1000) : Math.round(n);
  }
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * One `Range: bytes=` range of a file of `size` bytes as [start, end) — undefined when there is no Range
 * header, 'unsatisfiable' for a range this server does not serve (malformed, several ranges, past the end).
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return 'unsatisfiable';
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size : Math.min(size, Number(match[2]) + 1);
  if (start >= size || end <= start) return 'unsatisfiable';
  return { start, end };
}

/**
 * GET /mp4/download/{streamPath}.mp4?start=&end=: the MP4 recordings of the range stitched into one
 * progressive MP4 (moov first), laid out in memory as spans and served with Content-Length and byte ranges;
 * sample bytes are read from the recordings (local or S3) as they are sent.
 */
@Injectable()
export class Mp4DownloadService {
  constructor(
    private readonly recordings: Mp4Recordings,
    private readonly config: ConfigService,
  ) {}

  async serve(req: Request, res: Response, streamPath: string, start: number, end: number): Promise<void> {
    const range = await this.recordings.openRange(streamPath, start, end, this.config.section<Mp4Config>('mp4').download.maxRange);
    try {
      const layout = layoutProgressiveMp4(range.stitched.tracks);
      const spans = coalesceSpans(layout.spans);
      const size = layout.size;
      res.setHeader('Accept-Ranges', 'bytes');
      res.setHeader('Content-Type', 'video/mp4');
      res.setHeader('Content-Disposition', `inline; filename="${streamPath.replace(/\//g, '_')}-${range.stitched.start}.mp4"`);
      const wanted = parseRange(req.headers.range, size);
      if (wanted === 'unsatisfiable') {
        res.setHeader('Content-Range', `bytes */${size}`);
        res.status(416).end();
        return;
      }
      const from = wanted?.start ?? 0;
      const to = wanted?.end ?? size;
      if (wanted) {
        res.status(206);
        res.setHeader('Content-Range', `bytes ${from}-${to - 1}/${size}`);
      } else res.status(200);
      res.setHeader('Content-Length', String(to - from));
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      for await (const piece of readSpans(spans, range.files, from, to)) {
        if (res.destroyed) return;
        if (!res.write(piece)) await drainOrClose(res);
      }
      res.end();
    } finally {
      await range.close();
    }
  }
}

function drainOrClose(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
