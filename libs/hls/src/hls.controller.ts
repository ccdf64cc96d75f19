import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ConfigService, normalizeStreamPath, StreamAuth } from '@m7s/core';
import { Public } from '@m7s/auth';
import { HLS_FORMATS, HlsFormat } from './hls.config';
import type { HlsLive } from './hls-live';
import { HlsRequest, HlsUris, parseHlsPath } from './hls-path';
import { renderLivePlaylist, targetDurationOf } from './hls-playlist';
import { containerOf, HlsService } from './hls.service';
import { HttpRefusal, refuseHlsRequest } from './hls-refusal';

/** Query keys of the HLS protocol itself: not passed on to media URIs, not part of the auth check. */
const HLS_KEYS = ['_HLS_msn', '_HLS_part', '_HLS_skip', 'format'];
const INDEX = /^\d{1,15}$/;
/** Highest _HLS_part accepted (a part index beyond any real segment). */
const MAX_PART_INDEX = 10_000;
const AUTH_CACHE_MAX = 10_000;

/**
 * Live HLS: GET /hls/{streamPath}.m3u8 (?format=ts|fmp4|llhls, default hls.format) and the media it names,
 * relative to it: {name}/ts/{msn}.ts, {name}/fmp4/init-{n}.mp4, {name}/fmp4/{msn}.m4s, {name}/fmp4/{msn}.{part}.m4s.
 * Public for the API guard; every request is checked by stream auth with the playlist's query, which the
 * playlist passes on to the media URIs it names (a success is reused for hls.authCacheTime).
 */
@Public()
@Controller('hls')
export class HlsController {
  private readonly authorized = new Map<string, number>();

  constructor(
    private readonly hls: HlsService,
    private readonly config: ConfigService,
    private readonly auth: StreamAuth,
  ) {}

  @Get('*path')
  async serve(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (this.config.core.http.cors) res.setHeader('Access-Control-Allow-Origin', '*');
    try {
      const url = new URL(req.originalUrl, 'http://localhost');
      const request = parseHlsPath(url.pathname);
      if (!request) throw new HttpRefusal(404, 'NOT_FOUND', 'expected /hls/{streamPath}.m3u8 or a media URI it names');
      const streamPath = normalizeStreamPath(request.streamPath);
      const passQuery = new URLSearchParams(url.searchParams);
      for (const key of HLS_KEYS) passQuery.delete(key);
      await this.authorize(streamPath, passQuery, req);
      if (request.kind === 'playlist') await this.playlist(streamPath, url.searchParams, passQuery, res);
      else await this.media(streamPath, request, res);
    } catch (error) {
      refuseHlsRequest(res, error);
    }
  }

  private async playlist(streamPath: string, query: URLSearchParams, passQuery: URLSearchParams, res: Response): Promise<void> {
    const settings = this.hls.settings;
    const format = (query.get('format') ?? settings.format) as HlsFormat;
    if (!HLS_FORMATS.includes(format)) throw new HttpRefusal(400, 'BAD_QUERY', `format must be one of ${HLS_FORMATS.join(', ')}`);
    const msn = index(query, '_HLS_msn');
    const part = index(query, '_HLS_part');
    const skip = query.get('_HLS_skip');
    if (part !== undefined && msn === undefined) throw new HttpRefusal(400, 'BAD_QUERY', '_HLS_part without _HLS_msn');
    if (part !== undefined && part > MAX_PART_INDEX) throw new HttpRefusal(400, 'BAD_QUERY', '_HLS_part too large');
    const container = containerOf(format);
    const live = this.hls.acquire(streamPath, container);
    const ll = format === 'llhls';
    const segmenter = live.segmenter;

    // A new muxer: wait for its first part (LL-HLS) or segment, as long as a player waits for a publisher.
    const hasContent = (): boolean => (ll ? segmenter.lastPart !== undefined : segmenter.lastCompleteMsn >= 0);
    const firstWait = this.config.subscribePolicy('hls').waitTimeout + 3 * settings.segmentDuration;
    if (!(await live.waitFor(hasContent, firstWait, (abort) => res.once('close', abort)))) return this.notReady(live, res);

    if (ll && msn !== undefined) {
      // Blocking playlist reload: hold the request until segment msn (or part msn.part, or a later one) exists.
      const lastListed = segmenter.current?.msn ?? segmenter.lastCompleteMsn;
      if (msn > lastListed + 2) throw new HttpRefusal(400, 'BAD_QUERY', `_HLS_msn ${msn} is too far ahead of ${lastListed}`);
      const ready = (): boolean => {
        if (part === undefined) return segmenter.lastCompleteMsn >= msn;
        const last = segmenter.lastPart;
        return last !== undefined && (last.msn > msn || (last.msn === msn && last.index >= part));
      };
      if (!(await live.waitFor(ready, settings.blockingTimeout, (abort) => res.once('close', abort)))) return this.notReady(live, res);
    }
    if (res.destroyed) return;
    live.touch();
    const body = renderLivePlaylist({
      format,
      window: segmenter.window(ll),
      targetDuration: targetDurationOf(settings.segmentDuration, segmenter.maxSegmentDuration),
      partTarget: settings.partDuration / 1000,
      nextPart: ll ? segmenter.nextPart : undefined,
      skip: ll && (skip === 'YES' || skip === 'v2'),
      uris: new HlsUris(streamPath, container, passQuery.toString()),
    });
    res.status(200);
    res.setHeader('Content-Type', 'application/vnd.apple.mpegurl');
    res.setHeader('Cache-Control', 'no-cache');
    res.end(body);
  }

  private async media(streamPath: string, request: Exclude<HlsRequest, { kind: 'playlist' }>, res: Response): Promise<void> {
    const live = this.hls.find(streamPath, request.container);
    if (!live) throw new HttpRefusal(404, 'NOT_FOUND', `no HLS muxer runs for ${streamPath}`);
    live.touch();
    const segmenter = live.segmenter;
    const timeout = this.hls.settings.blockingTimeout;
    const cancel = (abort: () => void): void => void res.once('close', abort);
    if (request.kind === 'init') {
      const init = live.inits.get(request.id);
      if (!init) throw new HttpRefusal(404, 'NOT_FOUND', `no init section ${request.id}`);
      return this.send(res, 'video/mp4', [init]);
    }
    const type = request.container === 'ts' ? 'video/mp2t' : 'video/mp4';
    if (request.kind === 'segment') {
      // The segment in progress is answered when it completes.
      const ready = (): boolean => segmenter.find(request.msn)?.complete ?? true;
      if (segmenter.find(request.msn) && !(await live.waitFor(ready, timeout, cancel))) return this.notReady(live, res);
      const segment = segmenter.find(request.msn);
      if (!segment?.complete) throw new HttpRefusal(404, 'NOT_FOUND', `no segment ${request.msn}`);
      return this.send(res, type, segment.parts.map((p) => p.data));
    }
    // A part: the one being made now (preload hint) is answered when it exists.
    const next = segmenter.nextPart;
    if (request.msn === next.msn && request.part === next.index) {
      const settled = (): boolean => {
        const segment = segmenter.find(request.msn);
        return segment?.parts[request.part] !== undefined || segment?.complete === true || segmenter.nextPart.msn > request.msn;
      };
      if (!(await live.waitFor(settled, timeout, cancel))) return this.notReady(live, res);
    }
    const part = segmenter.find(request.msn)?.parts[request.part];
    if (!part) throw new HttpRefusal(404, 'NOT_FOUND', `no part ${request.msn}.${request.part}`);
    return this.send(res, type, [part.data]);
  }

  /** A wait ended without what was asked: the muxer ended (404), cannot serve the codecs (415), or time ran out (503). */
  private notReady(live: HlsLive, res: Response): void {
    if (res.destroyed) return;
    if (live.ended) throw live.ended;
    if (live.unsupported) throw new HttpRefusal(415, 'UNSUPPORTED', live.unsupported);
    throw new HttpRefusal(503, 'NOT_READY', 'not available yet; retry');
  }

  private send(res: Response, type: string, data: readonly Buffer[]): void {
    if (res.destroyed) return;
    res.status(200);
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Length', data.reduce((n, b) => n + b.length, 0));
    res.setHeader('Cache-Control', 'max-age=60');
    for (const chunk of data) res.write(chunk);
    res.end();
  }

  private async authorize(streamPath: string, query: URLSearchParams, req: Request): Promise<void> {
    const socket = req.socket;
    const key = `${socket.remoteAddress}|${streamPath}|${query.toString()}`;
    const now = Date.now();
    if ((this.authorized.get(key) ?? 0) > now) return;
    await this.auth.authorize({ action: 'play', protocol: 'hls', streamPath, query, remoteAddress: `${socket.remoteAddress}:${socket.remotePort}` });
    if (this.authorized.size >= AUTH_CACHE_MAX) {
      for (const [k, until] of this.authorized) if (until <= now) this.authorized.delete(k);
      if (this.authorized.size >= AUTH_CACHE_MAX) this.authorized.clear();
    }
    this.authorized.set(key, now + this.hls.settings.authCacheTime);
  }
}

/** A non-negative integer query value, undefined when absent; 400 when malformed. */
function index(query: URLSearchParams, key: string): number | undefined {
  const value = query.get(key);
  if (value === null) return undefined;
  if (!INDEX.test(value)) throw new HttpRefusal(400, 'BAD_QUERY', `${key} must be a non-negative integer`);
  return Number(value);
}
