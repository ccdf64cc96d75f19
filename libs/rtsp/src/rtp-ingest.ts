import type { Publisher } from '@m7s/core';
import { buildReceiverReport, buildSdes, concatRtcp, ntpToUnixMs, parseRtcpCompound, RtpReceiverStats, parseRtpPacket, RtpMediaClock, RtpPacket, RtpReorderBuffer, RtpTimestampUnwrapper, RtpTrackFormat, RtpTrackReceiver } from '@m7s/media';

/**
 * The time origin shared by the tracks of one RTSP session: when it started (arrival clock) and, once a
 * track has been placed using its sender's NTP clock, that reference, so the other tracks are placed by
 * their sender reports too (RTCP SR lip sync) instead of by when their first packet happened to arrive.
 */
export class RtpSessionClock {
  ntpReference: { ntpMs: number; ms: number } | undefined;

  constructor(readonly startedAt: number) {}
}

export interface RtpIngestOptions {
  /** UDP: how long a missing packet is waited for (0 = packets arrive in order, as over TCP). */
  reorderDelayMs: number;
}

/**
 * One received RTP track (an RTSP publisher's, or a camera we pull) written to a Publisher: packets
 * (reordered on UDP) → depacketizer → frames with their config, RTP time turned into the publisher's ms.
 * A track's first frame is placed by its sender's NTP time when a sender report came before it (relative to
 * the session's NTP reference), else by its arrival time since the session started.
 */
export class RtpIngestTrack {
  readonly receiver: RtpTrackReceiver;
  private readonly reorder: RtpReorderBuffer | undefined;
  private readonly unwrapper = new RtpTimestampUnwrapper();
  private readonly senderClock: RtpMediaClock;
  private origin: { rtp: number; ms: number } | undefined;
  private lastDts = -Infinity;
  private closed = false;
  /** Reception statistics for our receiver reports (RFC 3550 6.4.2), from the sender's first packet. */
  private stats: RtpReceiverStats | undefined;
  /** Our SSRC as a receiver. */
  private readonly ssrc = (Math.random() * 0x100000000) >>> 0;

  constructor(
    readonly format: RtpTrackFormat,
    private readonly publisher: Publisher,
    private readonly session: RtpSessionClock,
    options: RtpIngestOptions,
  ) {
    this.receiver = new RtpTrackReceiver(format);
    this.senderClock = new RtpMediaClock(format.clockRate);
    if (this.receiver.config) publisher.setTrack(this.receiver.config);
    this.reorder = options.reorderDelayMs > 0 ? new RtpReorderBuffer({ maxDelayMs: options.reorderDelayMs }) : undefined;
  }

  /** One RTP packet as received; throws MediaError on a malformed header (the session decides). */
  receive(data: Buffer, now: number): void {
    if (this.closed) return;
    const pkt = parseRtpPacket(data);
    if (pkt.payloadType !== this.format.payloadType) return;
    this.stats ??= new RtpReceiverStats(pkt.ssrc, this.format.clockRate);
    this.stats.onPacket(pkt, now);
    if (!this.reorder) return this.deliver(pkt, now);
    for (const p of this.reorder.push(pkt, now)) this.deliver(p, now);
  }

  /** RTCP from the sender: sender reports map its RTP clock to NTP. Malformed reports are ignored. */
  receiveRtcp(data: Buffer, now: number): void {
    let packets;
    try {
      packets = parseRtcpCompound(data);
    } catch {
      return;
    }
    for (const p of packets) {
      if (p.type !== 'sr') continue;
      this.senderClock.onSenderReport(ntpToUnixMs(p.ntpSeconds, p.ntpFraction), p.rtpTimestamp);
      this.stats?.onSenderReport(p, now);
    }
  }

  /** An RTCP receiver report (with our CNAME) about what arrived so far; undefined before the first packet. */
  receiverReport(now: number): Buffer | undefined {
    if (!this.stats) return undefined;
    return concatRtcp([buildReceiverReport({ ssrc: this.ssrc, reports: [this.stats.reportBlock(now)] }), buildSdes(this.ssrc, 'm7s-nest')]);
  }

  /** Releases packets the reorder buffer has waited for long enough. */
  poll(now: number): void {
    if (!this.reorder || this.closed) return;
    for (const p of this.reorder.poll(now)) this.deliver(p, now);
  }

  close(): void {
    this.closed = true;
  }

  private deliver(pkt: RtpPacket, now: number): void {
    for (const frame of this.receiver.push(pkt)) {
      const config = this.receiver.takeConfigChange();
      if (config) this.publisher.setTrack(config);
      const ms = this.toMs(frame.timestamp, now);
      if (frame.kind === 'video') {
        // RTP carries presentation times only; decode times must not go backwards.
        const dts = ms > this.lastDts ? ms : this.lastDts + 1;
        this.lastDts = dts;
        this.publisher.writeVideo(dts, Math.max(ms, dts), frame.keyFrame, frame.data);
      } else {
        for (const data of frame.data) this.publisher.writeAudio(ms, data);
      }
    }
  }

  private toMs(timestamp: number, now: number): number {
    const rtp = this.unwrapper.unwrap(timestamp);
    this.origin ??= { rtp, ms: this.placeFirstFrame(timestamp, now) };
    return this.origin.ms + ((rtp - this.origin.rtp) * 1000) / this.format.clockRate;
  }

  private placeFirstFrame(timestamp: number, now: number): number {
    const arrival = now - this.session.startedAt;
    const ntpMs = this.senderClock.wallClockMs(timestamp);
    if (ntpMs === undefined) return arrival;
    const ref = this.session.ntpReference;
    if (!ref) {
      this.session.ntpReference = { ntpMs, ms: arrival };
      return arrival;
    }
    const placed = ref.ms + (ntpMs - ref.ntpMs);
    // A sender clock far from the arrival time (broken SR) is not trusted.
    return Math.abs(placed - arrival) < 5000 ? placed : arrival;
  }
}
