import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { ConfigService, listenOn, StreamAuth, StreamRegistry } from '@m7s/core';
import type { RtmpConfig } from './rtmp.config';
import { RtmpServerSession } from './rtmp-server-session';

/** The RTMP listener (and the RTMPS one when a certificate is configured). */
@Injectable()
export class RtmpServerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RtmpServer');
  private readonly servers: Server[] = [];
  private readonly sessions = new Set<RtmpServerSession>();
  private readonly config: RtmpConfig;

  constructor(
    configService: ConfigService,
    private readonly registry: StreamRegistry,
    private readonly auth: StreamAuth,
  ) {
    this.config = configService.section<RtmpConfig>('rtmp');
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.listen) {
      await this.listen(createServer((socket) => this.accept(socket, 'rtmp')), this.config.listen, 'rtmp');
    }
    const { tls } = this.config;
    if (tls.listen && tls.cert && tls.key) {
      const server = createTlsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (socket) => this.accept(socket, 'rtmps'));
      server.on('tlsClientError', (error) => this.logger.warn({ msg: 'rtmps handshake failed', error: error.message }));
      await this.listen(server, tls.listen, 'rtmps');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    for (const session of this.sessions) session.close('shutdown');
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const session of this.sessions) session.conn.socket.destroy();
  }

  private listen(server: Server, address: string, protocol: string): Promise<void> {
    this.servers.push(server);
    return listenOn(server, address, protocol, this.logger);
  }

  private accept(socket: Socket, protocol: 'rtmp' | 'rtmps'): void {
    if (this.sessions.size >= this.config.maxConnections) {
      this.logger.warn({ msg: 'rtmp connection refused: too many connections', remoteAddress: socket.remoteAddress });
      socket.destroy();
      return;
    }
    const session = new RtmpServerSession(socket, this.registry, this.auth, this.config, protocol, (s) => this.sessions.delete(s));
    this.sessions.add(session);
  }
}
