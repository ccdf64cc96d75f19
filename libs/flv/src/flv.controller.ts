import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ConfigService, StreamAuth, StreamRegistry } from '@m7s/core';
import { Public } from '@m7s/auth';
import { FlvSink } from './flv-sink';
import { parseFlvPath } from './flv-path';
import { playOverChunkedHttp } from './http-play';

/**
 * HTTP-FLV: GET /flv/{streamPath}.flv streams FLV until the publisher leaves or the client goes.
 * Public for the API guard: players are checked by stream auth (URL signing, the hook) instead.
 */
@Public()
@Controller('flv')
export class FlvController {
  constructor(
    private readonly registry: StreamRegistry,
    private readonly config: ConfigService,
    private readonly auth: StreamAuth,
  ) {}

  @Get('*path')
  async play(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (this.config.core.http.cors) res.setHeader('Access-Control-Allow-Origin', '*');
    const url = new URL(req.originalUrl, 'http://localhost');
    const streamPath = parseFlvPath(url.pathname);
    if (!streamPath) {
      res.status(404).json({ code: 'NOT_FOUND', message: 'expected /flv/{streamPath}.flv' });
      return;
    }
    await playOverChunkedHttp(req, res, {
      registry: this.registry,
      auth: this.auth,
      protocol: 'http-flv',
      streamPath,
      query: url.searchParams,
      contentType: 'video/x-flv',
      sink: (writer) => new FlvSink(writer, 'chunked'),
    });
  }
}
