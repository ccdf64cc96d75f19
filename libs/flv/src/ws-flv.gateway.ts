import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { claimUpgrade, StreamError, StreamRegistry } from '@m7s/core';
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
    this.wss.handleUpgrade(req, socket, head, (ws) => this.play(ws, req, streamPath, url.searchParams));
  }

  private play(ws: WebSocket, req: IncomingMessage, streamPath: string, query: URLSearchParams): void {
    const sink = new FlvSink({
      write: (chunk) => ws.send(chunk, { binary: true }),
      backlog: () => ws.bufferedAmount,
      end: () => ws.close(1000, 'end of stream'),
    });
    const remoteAddress = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    try {
      const subscriber = this.registry.subscribe(streamPath, { protocol: 'ws-flv', remoteAddress, query }, sink);
      ws.on('close', () => {
        subscriber.bytesSent = sink.bytesSent;
        this.registry.unsubscribe(subscriber, 'client closed');
      });
      ws.on('error', (error) => this.logger.warn({ msg: 'websocket error', streamPath, remoteAddress, error: error.message }));
    } catch (error) {
      if (!(error instanceof StreamError)) throw error;
      ws.close(1008, `${error.code}: ${error.message}`.slice(0, 120));
    }
  }
}
