import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { claimUpgrade, StreamAuth, StreamError, StreamRegistry } from '@m7s/core';
import { FlvSink } from './flv-sink';
import { parseFlvPath } from './flv-path';

/** WS-FLV: a WebSocket upgrade on /flv/{streamPath}.flv carries the same FLV bytes as binary messages. */
@Injectable()
export class WsFlvGateway implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WsFlv');
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private server: Server | undefined;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly registry: StreamRegistry,
    private readonly auth: StreamAuth,
  ) {}

  onApplicationBootstrap(): void {
    this.server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.server.on('upgrade', this.onUpgrade);
  }

  onApplicationShutdown(): void {
    this.server?.off('upgrade', this.onUpgrade);
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return; // not ours; unclaimed upgrades are refused by the app
    }
    const streamPath = parseFlvPath(url.pathname);
    if (!streamPath) return;
    claimUpgrade(socket);
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.play(ws, req, streamPath, url.searchParams));
  }

  private async play(ws: WebSocket, req: IncomingMessage, streamPath: string, query: URLSearchParams): Promise<void> {
    const remoteAddress = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    ws.on('error', (error) => this.logger.warn({ msg: 'websocket error', streamPath, remoteAddress, error: error.message }));
    try {
      await this.auth.authorize({ action: 'play', protocol: 'ws-flv', streamPath, query, remoteAddress });
    } catch (error) {
      const reason = error instanceof StreamError ? `${error.code}: ${error.message}` : 'UNAUTHORIZED: stream authorization failed';
      if (!(error instanceof StreamError)) this.logger.error({ msg: 'stream authorization failed', streamPath, error: String(error) });
      ws.close(1008, truncateReason(reason));
      return;
    }
    // The player may have gone while it was being authorized.
    if (ws.readyState !== WebSocket.OPEN) return;
    const sink = new FlvSink({
      write: (chunk) => ws.send(chunk, { binary: true }),
      backlog: () => ws.bufferedAmount,
      end: () => ws.close(1000, 'end of stream'),
    });
    try {
      const subscriber = this.registry.subscribe(streamPath, { protocol: 'ws-flv', remoteAddress, query }, sink);
      ws.on('close', () => {
        subscriber.bytesSent = sink.bytesSent;
        this.registry.unsubscribe(subscriber, 'client closed');
      });
    } catch (error) {
      if (!(error instanceof StreamError)) throw error;
      ws.close(1008, truncateReason(`${error.code}: ${error.message}`));
    }
  }
}

/** A close reason must fit in 123 bytes of UTF-8. */
function truncateReason(reason: string): string {
  let text = reason.slice(0, 123);
  while (Buffer.byteLength(text) > 123) text = text.slice(0, -1);
  return text;
}
