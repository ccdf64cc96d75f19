import { Logger } from '@nestjs/common';
import { createSocket, Socket } from 'node:dgram';
import type { StreamRegistry, Subscriber } from '@m7s/core';
import type { TrackConfig } from '@m7s/media';
import type { RtspMulticastConfig } from './rtsp.config';
import { RtpPlayTrack, RtspPlaySink } from './rtsp-play-sink';

interface Group {
  address: string;
  port: number;
  members: number;
  /** The group's reader and its socket, while it has members. */
  socket?: Socket;
  subscriber?: Subscriber;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/**
 * UDP multicast play: one group (address and port pair) per stream track, fed by one reader of the
 * stream however many players joined it; the reader goes when the last player leaves.
 */
export class MulticastGroups {
  private readonly logger = new Logger('RtspMulticast');
  private readonly groups = new Map<string, Group>();
  private nextSlot = 0;

  constructor(
    private readonly registry: StreamRegistry,
    private readonly config: RtspMulticastConfig,
  ) {}

  /** The group of a stream track (allocated on first use, kept while it has members). */
  groupFor(streamPath: string, index: number): { address: string; port: number } {
    const key = `${streamPath}#${index}`;
    let group = this.groups.get(key);
    if (!group) {
      const used = new Set([...this.groups.values()].map((g) => `${g.address}:${g.port}`));
      const pairs = Math.max(1, Math.floor((this.config.portMax - this.config.portMin + 1) / 2));
      for (let i = 0; i < 65536 && !group; i++) {
        const slot = this.nextSlot++;
        const address = intToIpv4(ipv4ToInt(this.config.addressBase) + (slot % 256));
        const port = this.config.portMin + (this.config.portMin % 2) + 2 * (slot % pairs);
        if (!used.has(`${address}:${port}`)) group = { address, port, members: 0 };
      }
      this.groups.set(key, group!);
    }
    return { address: group!.address, port: group!.port };
  }

  /** A player joins the group: the first one starts the group's reader. */
  join(streamPath: string, index: number, config: TrackConfig, mtu: number): void {
    const key = `${streamPath}#${index}`;
    this.groupFor(streamPath, index);
    const group = this.groups.get(key)!;
    group.members++;
    if (!group.subscriber) {
      const socket = createSocket({ type: 'udp4' });
      socket.bind(0, () => {
        socket.setMulticastTTL(this.config.ttl);
        if (this.config.interface) socket.setMulticastInterface(this.config.interface);
      });
      socket.on('error', (error) => this.logger.warn({ msg: 'multicast socket error', streamPath, error: error.message }));
      const track = new RtpPlayTrack(config, `trackID=${index}`, mtu);
      track.udp = { socket, rtcp: socket, ip: group.address, ports: [group.port, group.port + 1] };
      group.socket = socket;
      const sink = new RtspPlaySink(undefined, [track], () => this.stop(key));
      group.subscriber = this.registry.subscribe(streamPath, { protocol: 'rtsp', remoteAddress: `${group.address}:${group.port}`, query: new URLSearchParams() }, sink);
    }
  }

  leave(streamPath: string, index: number): void {
    const key = `${streamPath}#${index}`;
    const group = this.groups.get(key);
    if (!group) return;
    group.members = Math.max(0, group.members - 1);
    if (group.members === 0) this.stop(key);
  }

  closeAll(): void {
    for (const key of [...this.groups.keys()]) this.stop(key);
  }

  private stop(key: string): void {
    const group = this.groups.get(key);
    if (!group) return;
    this.groups.delete(key);
    if (group.subscriber) this.registry.unsubscribe(group.subscriber, 'multicast group closed');
    group.socket?.close();
  }
}
