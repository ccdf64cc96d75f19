import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppError, ConfigService, StreamAuth, StreamRegistry } from '@m7s/core';
import { playOverChunkedHttp } from '@m7s/flv';
import { Public } from '@m7s/auth';
import { Mp4LiveSink } from './mp4-live-sink';
import { parseMp4Path } from './mp4-path';
import { Mp4DownloadService, parseTimeParam } from './mp4-download.service';

/**
 * GET /mp4/{streamPath}.mp4: the live stream as fragmented MP4 (until the publisher leaves or a track changes).
 * GET /mp4/download/{streamPath}.mp4?start=&end=: the recordings of a time range as one progressive MP4, with
 * byte ranges. Both are public for the API guard and checked by stream auth (URL signing, the hook) as a play.
 */
@Public()
@Controller('mp4')
export class Mp4Controller {
  constructor(
    private readonly registry: StreamRegistry,
    private readonly config: ConfigService,
    private readonly auth: StreamAuth,
    private readonly downloads: Mp4DownloadService,
  ) {}

  // Declared before the live route, which would match it too.
  @Get('download/*path')
  async download(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (this.config.core.http.cors) this.setCors(res);
    const url = new URL(req.originalUrl, 'http://localhost');
    const streamPath = parseMp4Path(url.pathname, '/mp4/download/');
    if (!streamPath) throw new AppError('NOT_FOUND', 'expected /mp4/download/{streamPath}.mp4?start=&end=');
    const start = parseTimeParam(url.searchParams, 'start');
    const end = parseTimeParam(url.searchParams, 'end');
    await this.authorize(req, streamPath, url.searchParams);
    await this.downloads.serve(req, res, streamPath, start, end);
  }

  @Get('*path')
  async play(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (this.config.core.http.cors) this.setCors(res);
    const url = new URL(req.originalUrl, 'http://localhost');
    const streamPath = parseMp4Path(url.pathname);
    if (!streamPath) {
      res.status(404).json({ code: 'NOT_FOUND', message: 'expected /mp4/{streamPath}.mp4' });
      return;
    }
    // A track change ends the response from inside the engine's write path (the player reconnects).
    await playOverChunkedHttp(req, res, {
      registry: this.registry,
      auth: this.auth,
      protocol: 'http-mp4',
      streamPath,
      query: url.searchParams,
      contentType: 'video/mp4',
      sink: (writer) => new Mp4LiveSink(writer),
    });
  }

  private async authorize(req: Request, streamPath: string, query: URLSearchParams): Promise<void> {
    const remoteAddress = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    await this.auth.authorize({ action: 'play', protocol: 'http-mp4', streamPath, query, remoteAddress });
  }

  private setCors(res: Response): void {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Accept-Ranges');
  }
}
