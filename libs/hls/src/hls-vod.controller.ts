import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ConfigService, normalizeStreamPath, StreamAuth } from '@m7s/core';
import { Public } from '@m7s/auth';
import { RecordingsService } from '@m7s/record';
import { hlsSegmentDir } from './hls-record';
import { buildVodPlaylist } from './hls-vod';
import { HttpRefusal, refuseHlsRequest } from './hls-refusal';

const PLAYLIST = /^\/hls\/vod\/(.+)\.m3u8$/;
const SEGMENT = /^\/hls\/vod\/(.+)\/(\d{1,12})\/([^/]+)\/(\d{6,12}\.ts)$/;
/** Most recordings one range playlist may gather (a day of 10-minute files is 144). */
const MAX_RECORDINGS = 1000;

/** ms since the epoch from a query value: digits (ms) or an ISO 8601 date. */
function timeParam(query: URLSearchParams, key: string): number {
  const value = query.get(key);
  if (value === null) throw new HttpRefusal(400, 'BAD_QUERY', `${key} is required (ms since the epoch or ISO 8601)`);
  const t = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(t)) throw new HttpRefusal(400, 'BAD_QUERY', `${key}: not a time: ${value.slice(0, 40)}`);
  return t;
}

/**
 * HLS VOD of recorded time: GET /hls/vod/{streamPath}.m3u8?start=&end= is a VOD playlist of the segments of the
 * stream's HLS recordings overlapping [start, end]; the segments it names are served from
 * /hls/vod/{streamPath}/{recordingId}/{dir}/{n}.ts. Played like live HLS: stream auth (action play) with the
 * request's query, which the playlist passes on to its segment URIs. Registered before the live HLS
 * controller, so a live stream path starting with `vod/` is not reachable over HLS.
 */
@Public()
@Controller('hls/vod')
export class HlsVodController {
  constructor(
    private readonly recordings: RecordingsService,
    private readonly config: ConfigService,
    private readonly auth: StreamAuth,
  ) {}

  @Get('*path')
  async serve(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (this.config.core.http.cors) res.setHeader('Access-Control-Allow-Origin', '*');
    try {
      const url = new URL(req.originalUrl, 'http://localhost');
      let pathname: string;
      try {
        pathname = decodeURIComponent(url.pathname);
      } catch {
        throw new HttpRefusal(400, 'BAD_PATH', 'badly encoded path');
      }
      const segment = SEGMENT.exec(pathname);
      const playlist = segment ? undefined : PLAYLIST.exec(pathname);
      if (!segment && !playlist) throw new HttpRefusal(404, 'NOT_FOUND', 'expected /hls/vod/{streamPath}.m3u8?start=&end=');
      const streamPath = normalizeStreamPath((segment ?? playlist)![1]);
      const passQuery = new URLSearchParams(url.searchParams);
      passQuery.delete('start');
      passQuery.delete('end');
      const socket = req.socket;
      await this.auth.authorize({ action: 'play', protocol: 'hls', streamPath, query: passQuery, remoteAddress: `${socket.remoteAddress}:${socket.remotePort}` });
      if (segment) await this.segment(streamPath, Number(segment[2]), segment[3], segment[4], res);
      else await this.playlist(streamPath, url.searchParams, passQuery, res);
    } catch (error) {
      refuseHlsRequest(res, error);
    }
  }

  private async playlist(streamPath: string, query: URLSearchParams, passQuery: URLSearchParams, res: Response): Promise<void> {
    const start = timeParam(query, 'start');
    const end = timeParam(query, 'end');
    if (end <= start) throw new HttpRefusal(400, 'BAD_QUERY', 'end must be after start');
    const { list } = await this.recordings.find({ streamPath, start, end, format: 'hls', pageSize: MAX_RECORDINGS });
    const name = streamPath.split('/').pop()!;
    const suffix = passQuery.size > 0 ? `?${passQuery.toString()}` : '';
    const recorded = [];
    for (const row of list) {
      if (row.storage !== 'local') continue;
      const text = await readFile(row.filePath, 'utf8').catch(() => undefined);
      // Segment URIs are relative to this playlist (/hls/vod/{streamPath}.m3u8): {name}/{id}/{dir}/{n}.ts
      if (text !== undefined) recorded.push({ text, segmentUri: (uri: string) => `${name}/${row.id}/${uri}${suffix}` });
    }
    if (recorded.length === 0) throw new HttpRefusal(404, 'NOT_FOUND', `no HLS recording of ${streamPath} between ${new Date(start).toISOString()} and ${new Date(end).toISOString()}`);
    res.status(200);
    res.setHeader('Content-Type', 'application/vnd.apple.mpegurl');
    res.setHeader('Cache-Control', 'no-cache');
    res.end(buildVodPlaylist(recorded, start, end));
  }

  private async segment(streamPath: string, id: number, dirName: string, file: string, res: Response): Promise<void> {
    const row = await this.recordings.get(id);
    // The segment must belong to that recording of that stream.
    if (!row || row.format !== 'hls' || row.streamPath !== streamPath || row.storage !== 'local') throw new HttpRefusal(404, 'NOT_FOUND', `no HLS recording ${id} of ${streamPath}`);
    const dir = hlsSegmentDir(row.filePath);
    if (basename(dir) !== dirName) throw new HttpRefusal(404, 'NOT_FOUND', 'no such segment');
    const path = `${dir}/${file}`;
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new HttpRefusal(404, 'NOT_FOUND', 'no such segment');
    res.status(200);
    res.setHeader('Content-Type', 'video/mp2t');
    res.setHeader('Content-Length', info.size);
    res.setHeader('Cache-Control', 'max-age=3600');
    createReadStream(path).on('error', () => res.destroy()).pipe(res);
  }
}
