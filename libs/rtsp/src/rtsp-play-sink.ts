import type { Socket as UdpSocket } from 'node:dgram';
import { AVFrame, StreamError, SubscriberSink, TrackSet } from '@m7s/core';
import { buildSenderReport, concatRtcp, buildSdes, RtpPayload, rtpClockRate, rtpPayloadsOfFrame, TrackConfig, unixMsToNtp } from '@m7s/media';
import type { RtspConnection } from './rtsp-connection';
import { interleavedHeader } from './protocol';

const RTP_HEADER = 12;
/** RTCP sender reports go to each player this often (RFC 3550 6.2 suggests ~5 s). */
const SENDER_REPORT_INTERVAL_MS = 5000;

/** A frame's RTP payloads at an MTU: built once per frame and shared by every RTSP and multicast reader. */
export function framePayloads(frame: AVFrame, mtu: number): RtpPayload[] {
  return frame.cached(`rtp:${mtu}`, (f) => rtpPayloadsOfFrame(f.config, f.data, f.keyFrame, mtu));
}

/**
 * One track a player set up: its own SSRC, sequence numbers and timestamp origin (so its RTP-Info is exact),
 * and where packets go (interleaved channel, or UDP to the client's ports).
 */
export class RtpPlayTrack {
  readonly clockRate: number;
  seq: number;
  packets = 0;
  octets = 0;
  /** RTP time of the last frame sent and when it was sent, for sender reports. */
  lastTimestamp: number;
  lastSentAt = 0;
  channel: number | undefined;
  udp: { socket: UdpSocket; rtcp: UdpSocket; ip: string; ports: [number, number] } | undefined;
  /** A multicast player's track is sent by the stream's group reader: this is the group's track. */
  multicast: RtpPlayTrack | undefined;

  constructor(
    readonly config: TrackConfig,
    readonly control: string,
    readonly firstSeq: number,
    readonly ssrc: number,
    readonly firstTimestamp: number,
    readonly mtu: number,
  ) {
    this.clockRate = rtpClockRate(config);
    this.seq = firstSeq;
    this.lastTimestamp = firstTimestamp;
  }

  /** RTP headers for the payloads of one frame, in one allocation (with room for the interleaved header on TCP). */
  headers(payloads: readonly RtpPayload[], timestamp: number): Buffer[] {
    const prefix = this.channel === undefined ? 0 : 4;
    const size = prefix + RTP_HEADER;
    const block = Buffer.allocUnsafe(size * payloads.length);
    const out: Buffer[] = [];
    const pt = rtpPayloadType(this.config);
    for (let i = 0; i < payloads.length; i++) {
      const h = block.subarray(i * size, (i + 1) * size);
      const p = payloads[i];
      if (prefix) {
        h[0] = 0x24;
        h[1] = this.channel!;
        h.writeUInt16BE(RTP_HEADER + p.payload.length, 2);
      }
      h[prefix] = 0x80;
      h[prefix + 1] = (p.marker ? 0x80 : 0) | pt;
      h.writeUInt16BE(this.seq, prefix + 2);
      h.writeUInt32BE((timestamp + (p.timestampOffset ?? 0)) >>> 0, prefix + 4);
      h.writeUInt32BE(this.ssrc, prefix + 8);
      this.seq = (this.seq + 1) & 0xffff;
      this.packets++;
      this.octets += p.payload.length;
      out.push(h);
    }
    return out;
  }
}

/** Dynamic payload types: 96 for video, 97 for audio; G.711 keeps its static ones (RFC 3551). */
export function rtpPayloadType(config: TrackConfig): number {
  if (config.codec === 'pcmu' && config.sampleRate === 8000 && config.channels === 1) return 0;
  if (config.codec === 'pcma' && config.sampleRate === 8000 && config.channels === 1) return 8;
  return config.kind === 'video' ? 96 : 97;
}

/**
 * Plays a stream into an RTSP session. The payloads of a frame are shared (frame cache); each player adds
 * only its 12-byte RTP headers (and the 4-byte interleaved header on TCP), all of a frame in one Buffer.
 */
export class RtspPlaySink implements SubscriberSink {
  private ptsOrigin: number | undefined;
  private detached = false;
  private lastReport = Date.now();

  constructor(
    /** The player's connection; undefined for a multicast group's reader (UDP only). */
    private readonly conn: RtspConnection | undefined,
    private readonly tracks: RtpPlayTrack[],
    private readonly onEnd: (error?: StreamError) => void,
  ) {}

  get bytesSent(): number {
    return (this.conn?.bytesSent ?? 0) + this.tracks.reduce((n, t) => n + (t.udp ? t.octets + t.packets * RTP_HEADER : 0), 0);
  }

  backlog(): number {
    return this.conn?.backlog ?? 0;
  }

  start(_tracks: TrackSet): void {}

  track(): void {}

  frame(frame: AVFrame): void {
    if (this.detached) return;
    const track = this.tracks.find((t) => t.config.kind === frame.kind);
    if (!track || track.multicast || track.config.codec !== frame.codec) return;
    const payloads = framePayloads(frame, track.mtu);
    if (payloads.length === 0) return;
    this.ptsOrigin ??= frame.pts;
    const timestamp = (track.firstTimestamp + Math.round(((frame.pts - this.ptsOrigin) * track.clockRate) / 1000)) >>> 0;
    track.lastTimestamp = timestamp;
    track.lastSentAt = Date.now();
    const headers = track.headers(payloads, timestamp);
    if (track.udp) {
      const { socket, ip, ports } = track.udp;
      for (let i = 0; i < payloads.length; i++) socket.send([headers[i], payloads[i].payload], ports[0], ip);
      return;
    }
    // Audio may wait for the next video frame to leave in the same write.
    const defer = frame.kind === 'audio' && this.tracks.length > 1 ? 40 : 0;
    const conn = this.conn;
    if (!conn) return;
    for (let i = 0; i < payloads.length; i++) {
      conn.write(headers[i], defer);
      conn.write(payloads[i].payload, defer);
    }
  }

  publisherLeft(): boolean {
    this.onEnd();
    return false;
  }

  end(error: StreamError): void {
    this.onEnd(error);
  }

  /** The session stopped playing (PAUSE, TEARDOWN): nothing more is sent. */
  detach(): void {
    this.detached = true;
  }

  /** Receiver reports from the player only show it is alive (the session notes the activity). */
  receiveRtcp(_index: number, _data: Buffer): void {}

  /** Periodic work: sender reports (lip sync for players that use them, RTCP keep-alive for UDP). */
  tick(now: number): void {
    if (this.detached || now - this.lastReport < SENDER_REPORT_INTERVAL_MS) return;
    this.lastReport = now;
    for (const t of this.tracks) {
      if (t.packets === 0 || t.multicast) continue;
      const rtpNow = (t.lastTimestamp + Math.round(((now - t.lastSentAt) * t.clockRate) / 1000)) >>> 0;
      const ntp = unixMsToNtp(now);
      const report = concatRtcp([
        buildSenderReport({ ssrc: t.ssrc, ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: rtpNow, packetCount: t.packets, octetCount: t.octets, reports: [] }),
        buildSdes(t.ssrc, 'm7s-nest'),
      ]);
      if (t.udp) t.udp.rtcp.send(report, t.udp.ports[1], t.udp.ip);
      else if (t.channel !== undefined && this.conn) {
        this.conn.write(interleavedHeader(t.channel + 1, report.length));
        this.conn.write(report);
      }
    }
  }
}
