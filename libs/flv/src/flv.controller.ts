import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { BatchedWriter, ConfigService, StreamAuth, StreamError, StreamErrorCode, StreamRegistry } from '@m7s/core';
import { Public } from '@m7s/auth';
import { FlvSink } from './flv-sink';
import { parseFlvPath } from './flv-path';

const REFUSAL_STATUS: Partial<Record<StreamErrorCode, number>> = { WAIT_TIMEOUT: 404, STREAM_NOT_FOUND: 404, SHUTDOWN: 503, UNAUTHORIZED: 403 };

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
    const socket = req.socket;
    const remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    try {
      await this.auth.authorize({ action: 'play', protocol: 'http-flv', streamPath, query: url.searchParams, remoteAddress });
    } catch (error) {
      if (!(error instanceof StreamError)) throw error;
      if (!res.destroyed) this.refuse(res, error);
      return;
    }
    // The player may have gone while it was being authorized.
    if (res.destroyed || socket.destroyed) return;
    socket.setNoDelay(true);
    // Tags go straight to the socket once the headers are out, already framed as HTTP chunks (the
    // chunk of a frame is built once for every player); res.end() writes the last chunk.
    const writer = new BatchedWriter(socket);
    const sink = new FlvSink(
      {
        write: (chunk, deferMs) => {
          if (!res.headersSent) res.flushHeaders();
          writer.write(chunk, deferMs);
        },
        backlog: () => writer.backlog,
        end: (error) => {
          // Nothing sent yet (no publisher came): answer with the reason instead of an empty FLV.
          if (error && !res.headersSent) this.refuse(res, error);
          else res.end();
        },
      },
      'chunked',
    );
    // Headers are set first: a ready stream writes its first tags during subscribe().
    res.status(200);
    res.setHeader('Content-Type', 'video/x-flv');
    res.setHeader('Cache-Control', 'no-cache');
    let subscriber;
    try {
      subscriber = this.registry.subscribe(
        streamPath,
        { protocol: 'http-flv', remoteAddress, query: url.searchParams },
        sink,
      );
    } catch (error) {
      if (!(error instanceof StreamError)) throw error;
      this.refuse(res, error);
      return;
    }
    // Headers leave with the first tag: a player that waits for a publisher that never comes gets a 404.
    const sub = subscriber;
    res.on('close', () => {
      sub.bytesSent = sink.bytesSent;
      this.registry.unsubscribe(sub, 'client closed');
    });
  }

  private refuse(res: Response, error: StreamError): void {
    const status = REFUSAL_STATUS[error.code] ?? 400;
    res.removeHeader('Cache-Control');
    res.setHeader('Content-Type', 'application/json');
    res.status(status).json({ code: error.code, message: error.message });
  }
}
