import type { Publisher } from '@m7s/core';
import { parseRtcpCompound, parseRtpPacket, RtpPacket, RtpReorderBuffer, RtpTimestampUnwrapper, RtpTrackFormat, RtpTrackReceiver } from '@m7s/media';

export interface RtpIngestOptions {
  /** UDP: how long a missing packet is waited for (0 = packets arrive in order, as over TCP). */
  reorderDelayMs: number;
}

/**
 * One received RTP track (an RTSP publisher's, or a camera we pull) written to a Publisher: packets
 * (reordered on UDP) → depacketizer → frames with their config, RTP time turned into the publisher's ms.
 * Tracks of a session share one origin (`startedAt`): each track's first frame is placed at its arrival
 * time since then, so audio and video stay in step even when one starts later.
 */
export class RtpIngestTrack {
  readonly receiver: RtpTrackReceiver;
  private readonly reorder: RtpReorderBuffer | undefined;
  private readonly unwrapper = new RtpTimestampUnwrapper();
  private origin: { rtp: number; ms: number } | undefined;
  private lastDts = -Infinity;
  private closed = false;
  /** RTP packets received for this track. */
  packets = 0;

  constructor(
    readonly format: RtpTrackFormat,
    private readonly publisher: Publisher,
    private readonly startedAt: number,
    options: RtpIngestOptions,
  ) {
    this.receiver = new RtpTrackReceiver(format);
    if (this.receiver.config) publisher.setTrack(this.receiver.config);
    this.reorder = options.reorderDelayMs > 0 ? new RtpReorderBuffer({ maxDelayMs: options.reorderDelayMs }) : undefined;
  }

  /** One RTP packet as received; throws MediaError on a malformed header (the session decides). */
  receive(data: Buffer, now: number): void {
    if (this.closed) return;
    const pkt = parseRtpPacket(data);
    if (pkt.payloadType !== this.format.payloadType) return;
    this.packets++;
    if (!this.reorder) return this.deliver(pkt, now);
    for (const p of this.reorder.push(pkt, now)) this.deliver(p, now);
  }

  /** RTCP from the sender; malformed reports are ignored (they carry nothing we need to play). */
  receiveRtcp(data: Buffer, _now: number): void {
    try {
      parseRtcpCompound(data);
    } catch {
      // ignored
    }
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
    this.origin ??= { rtp, ms: now - this.startedAt };
    return this.origin.ms + ((rtp - this.origin.rtp) * 1000) / this.format.clockRate;
  }
}
