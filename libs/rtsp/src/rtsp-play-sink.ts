import { randomInt } from 'node:crypto';
import type { Socket as UdpSocket } from 'node:dgram';
import { AVFrame, StreamError, SubscriberSink, Track, TrackSet } from '@m7s/core';
import { AudioCodec, buildSdes, buildSenderReport, concatRtcp, RtpPayload, rtpClockRate, rtpPayloadsOfFrame, TrackConfig, unixMsToNtp } from '@m7s/media';
import type { RtspConnection } from './rtsp-connection';
import { interleavedHeader } from './protocol';

const RTP_HEADER = 12;
/** RTCP sender reports go to each player this often (RFC 3550 6.2 suggests ~5 s). */
const SENDER_REPORT_INTERVAL_MS = 5000;

/** Dynamic payload types: 96 for video, 97 for audio; G.711 keeps its static ones (RFC 3551). */
export function rtpPayloadType(config: TrackConfig): number {
  if (config.codec === 'pcmu' && config.sampleRate === 8000 && config.channels === 1) return 0;
  if (config.codec === 'pcma' && config.sampleRate === 8000 && config.channels === 1) return 8;
  return config.kind === 'video' ? 96 : 97;
}

/**
 * The RTP numbering of one publisher's track, shared by every RTSP reader of it: one SSRC, one sequence
 * space and one timestamp origin, so each frame is serialized once (per MTU and interleaved channel) and the
 * same Buffers go to every player. A player that skips frames (slow reader) sees the gap as loss, as RTP
 * intends. Frames are numbered in stream order; a frame no reader took while it was new cannot be numbered
 * afterwards (it would go back in sequence), so a player that joins on it waits for the next key frame.
 */
class SharedRtpTrack {
  readonly ssrc = randomInt(0, 0x100000000);
  private nextSeq = randomInt(0, 0x10000);
  private readonly timestampBase = randomInt(0, 0x100000000);
  /** Ring position of the newest frame numbered. */
  private newest = -1;
  /** RTP time of the newest frame numbered and when, for sender reports. */
  lastTimestamp = this.timestampBase;
  lastNumberedAt = Date.now();

  constructor(
    readonly clockRate: number,
    readonly payloadType: number,
  ) {}

  /**
   * The packets of a frame (RTP header and the shared payload of each), or undefined for a frame too old to
   * number. The headers of a frame share one allocation.
   */
  packets(frame: AVFrame, mtu: number): RtpPacketParts[] | undefined {
    return frame.cached(`rtp-packets:${mtu}`, (f) => {
      if (f.seq <= this.newest) return null;
      this.newest = f.seq;
      const timestamp = (this.timestampBase + Math.round((f.pts * this.clockRate) / 1000)) >>> 0;
      this.lastTimestamp = timestamp;
      this.lastNumberedAt = Date.now();
      const payloads = rtpPayloadsOfFrame(f.config, f.data, f.keyFrame, mtu);
      const headers = Buffer.allocUnsafe(RTP_HEADER * payloads.length);
      return payloads.map((p, i) => ({ header: this.writeHeader(headers.subarray(i * RTP_HEADER, (i + 1) * RTP_HEADER), p, timestamp), payload: p.payload }));
    }) ?? undefined;
  }

  private writeHeader(out: Buffer, p: RtpPayload, timestamp: number): Buffer {
    out[0] = 0x80;
    out[1] = (p.marker ? 0x80 : 0) | this.payloadType;
    out.writeUInt16BE(this.nextSeq, 2);
    out.writeUInt32BE((timestamp + (p.timestampOffset ?? 0)) >>> 0, 4);
    out.writeUInt32BE(this.ssrc, 8);
    this.nextSeq = (this.nextSeq + 1) & 0xffff;
    return out;
  }
}

/** One RTP packet as its header and its payload (sent as two parts, never copied together except over TCP). */
interface RtpPacketParts {
  header: Buffer;
  payload: Buffer;
}

const sharedTracks = new WeakMap<Track, SharedRtpTrack>();

function sharedTrackOf(track: Track): SharedRtpTrack {
  let shared = sharedTracks.get(track);
  if (!shared) {
    shared = new SharedRtpTrack(rtpClockRate(track.config), rtpPayloadType(track.config));
    sharedTracks.set(track, shared);
  }
  return shared;
}

/** A frame's interleaved packets ($, channel, length, RTP header, payload) as one Buffer, built once per frame and channel. */
function interleavedFrame(frame: AVFrame, packets: readonly RtpPacketParts[], mtu: number, channel: number): Buffer {
  return frame.cached(`rtsp-tcp:${mtu}:${channel}`, () => {
    const parts: Buffer[] = [];
    for (const p of packets) parts.push(interleavedHeader(channel, RTP_HEADER + p.payload.length), p.header, p.payload);
    return Buffer.concat(parts);
  });
}

/** One track a player set up and where its packets go: an interleaved channel, or UDP to the client's ports. */
export class RtpPlayTrack {
  /** Packets sent and their payload bytes (RTCP sender report counts). */
  packets = 0;
  octets = 0;
  channel: number | undefined;
  udp: { socket: UdpSocket; rtcp: UdpSocket; ip: string; ports: [number, number] } | undefined;
  /** A multicast player's packets are sent by the stream's group reader, not by its own sink. */
  multicast = false;
  /** The numbering of the publisher's track it plays (set when playing starts). */
  shared: SharedRtpTrack | undefined;
  /** Skipping to the next key frame (joined on a frame too old to number). */
  waitKeyFrame = false;

  constructor(
    readonly config: TrackConfig,
    readonly control: string,
    readonly mtu: number,
  ) {}
}

/**
 * Plays a stream into an RTSP session (or a multicast group, or a push to another server). Frames are
 * serialized once for all readers (SharedRtpTrack): over TCP a player writes one shared Buffer per frame,
 * over UDP it sends the shared packets as datagrams.
 */
export class RtspPlaySink implements SubscriberSink {
  /** Audio with an RTP payload format here (what DESCRIBE can offer). */
  readonly audioCodecs: readonly AudioCodec[] = ['aac', 'opus', 'pcma', 'pcmu'];
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

  start(tracks: TrackSet): void {
    for (const t of this.tracks) {
      const track = tracks[t.config.kind];
      t.shared = track ? sharedTrackOf(track) : undefined;
    }
  }

  track(): void {}

  frame(frame: AVFrame): void {
    if (this.detached) return;
    const track = this.tracks.find((t) => t.config.kind === frame.kind);
    if (!track?.shared || track.multicast || track.config.codec !== frame.codec) return;
    if (track.waitKeyFrame && !frame.keyFrame) return;
    const packets = track.shared.packets(frame, track.mtu);
    if (!packets) {
      track.waitKeyFrame = true;
      return;
    }
    track.waitKeyFrame = false;
    if (packets.length === 0) return;
    track.packets += packets.length;
    for (const p of packets) track.octets += p.payload.length;
    if (track.udp) {
      const { socket, ip, ports } = track.udp;
      for (const p of packets) socket.send([p.header, p.payload], ports[0], ip);
      return;
    }
    // Audio may wait for the next video frame to leave in the same write.
    this.conn?.write(interleavedFrame(frame, packets, track.mtu, track.channel!), frame.kind === 'audio' && this.tracks.length > 1 ? 40 : 0);
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
      const shared = t.shared;
      if (!shared || t.packets === 0 || t.multicast) continue;
      const rtpNow = (shared.lastTimestamp + Math.round(((now - shared.lastNumberedAt) * shared.clockRate) / 1000)) >>> 0;
      const ntp = unixMsToNtp(now);
      const report = concatRtcp([
        buildSenderReport({ ssrc: shared.ssrc, ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: rtpNow, packetCount: t.packets, octetCount: t.octets }),
        buildSdes(shared.ssrc, 'm7s-nest'),
      ]);
      if (t.udp) t.udp.rtcp.send(report, t.udp.ports[1], t.udp.ip);
      else if (t.channel !== undefined && this.conn) this.conn.sendInterleaved(t.channel + 1, report);
    }
  }
}
