import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { ConfigService, listenOn, parseListen, StreamAuth, StreamRegistry } from '@m7s/core';
import type { RtspConfig } from './rtsp.config';
import { MulticastGroups } from './rtsp-multicast';
import { RtspServerContext, RtspServerSession } from './rtsp-server-session';
import { UdpPortAllocator } from './rtsp-udp';

/** The RTSP listener (and the RTSPS one when a certificate is configured). */
@Injectable()
export class RtspServerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RtspServer');
  private readonly servers: Server[] = [];
  private readonly sessions = new Set<RtspServerSession>();
  private readonly config: RtspConfig;
  private readonly ctx: RtspServerContext;

  constructor(configService: ConfigService, registry: StreamRegistry, auth: StreamAuth) {
    this.config = configService.section<RtspConfig>('rtsp');
    const host = this.config.listen ? parseListen(this.config.listen).host : undefined;
    this.ctx = {
      registry,
      auth,
      config: this.config,
      udpPorts: new UdpPortAllocator(this.config.udp.portMin, this.config.udp.portMax, host && host !== '::' ? host : undefined),
      multicast: new MulticastGroups(registry, this.config.multicast),
      nonceSecret: randomBytes(32),
      serverName: `m7s-nest${configService.core.name ? ` (${configService.core.name})` : ''}`,
    };
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.listen) await this.listen(createServer((socket) => this.accept(socket, 'rtsp')), this.config.listen, 'rtsp');
    const { tls } = this.config;
    if (tls.listen && tls.cert && tls.key) {
      const server = createTlsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (socket) => this.accept(socket, 'rtsps'));
      server.on('tlsClientError', (error) => this.logger.warn({ msg: 'rtsps handshake failed', error: error.message }));
      await this.listen(server, tls.listen, 'rtsps');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    for (const session of this.sessions) session.close('shutdown');
    this.ctx.multicast.closeAll();
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const session of this.sessions) session.conn.socket.destroy();
  }

  private listen(server: Server, address: string, protocol: string): Promise<void> {
    this.servers.push(server);
    return listenOn(server, address, protocol, this.logger);
  }

  private accept(socket: Socket, protocol: 'rtsp' | 'rtsps'): void {
    if (this.sessions.size >= this.config.maxConnections) {
      this.logger.warn({ msg: 'rtsp connection refused: too many connections', remoteAddress: socket.remoteAddress });
      socket.destroy();
      return;
    }
    const session = new RtspServerSession(socket, this.ctx, protocol, (s) => this.sessions.delete(s));
    this.sessions.add(session);
  }
}
