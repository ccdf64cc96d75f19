import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ConfigService, StreamError, StreamRegistry } from '@m7s/core';
import { FlvSink } from './flv-sink';
import { parseFlvPath } from './flv-path';

/** HTTP-FLV: GET /flv/{streamPath}.flv streams FLV until the publisher leaves or the client goes. */
@Controller('flv')
export class FlvController {
  constructor(
    private readonly registry: StreamRegistry,
    private readonly config: ConfigService,
  ) {}

  @Get('*path')
  play(@Req() req: Request, @Res() res: Response): void {
    if (this.config.core.http.cors) res.setHeader('Access-Control-Allow-Origin', '*');
    const url = new URL(req.originalUrl, 'http://localhost');
    const streamPath = parseFlvPath(url.pathname);
    if (!streamPath) {
      res.status(404).json({ code: 'NOT_FOUND', message: 'expected /flv/{streamPath}.flv' });
      return;
    }
    const socket = req.socket;
    socket.setNoDelay(true);
    const sink = new FlvSink({
      write: (chunk) => res.write(chunk),
      backlog: () => res.writableLength,
      end: () => res.end(),
    });
    // Headers are set first: a ready stream writes its first tags during subscribe().
    res.status(200);
    res.setHeader('Content-Type', 'video/x-flv');
    res.setHeader('Cache-Control', 'no-cache');
    // The body ends when the stream does: it is delimited by closing the connection rather than by
    // chunked encoding, so each tag is one socket write instead of three.
    res.removeHeader('Transfer-Encoding');
    let subscriber;
    try {
      subscriber = this.registry.subscribe(
        streamPath,
        { protocol: 'http-flv', remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`, query: url.searchParams },
        sink,
      );
    } catch (error) {
      if (!(error instanceof StreamError)) throw error;
      res.removeHeader('Cache-Control');
      res.status(error.code === 'SHUTDOWN' ? 503 : 400).json({ code: error.code, message: error.message });
      return;
    }
    if (!res.headersSent) res.flushHeaders();
    const sub = subscriber;
    res.on('close', () => {
      sub.bytesSent = sink.bytesSent;
      this.registry.unsubscribe(sub, 'client closed');
    });
  }
}
