import { MediaError } from '../media.errors';
import { RtpSequenceStats, trackRtpSequence } from './nal-depacketizer';
import type { RtpPacket } from './rtp-packet';

/** A whole video frame rebuilt from RTP (VP8, VP9, AV1): one sample as the engine carries it. */
export interface RtpVideoFrame {
  /** RTP timestamp (90 kHz) */
  timestamp: number;
  keyFrame: boolean;
  data: Buffer;
  /** picture size the payload format signals (VP9 scalability structure: the largest layer) */
  width?: number;
  height?: number;
}

/** What a codec's `finish` gives back. */
export type RtpFinishedFrame = Omit<RtpVideoFrame, 'timestamp'>;

export interface RtpFrameDepacketizerOptions {
  /** Largest frame held; a larger one is dropped (default 8 MiB). */
  maxFrameSize?: number;
}

export interface RtpFrameDepacketizerStats extends RtpSequenceStats {
  packets: number;
  /** frames emitted */
  frames: number;
  /** frames dropped: damaged by a loss, started without their first packet, over the size limit, or not decodable while a key frame was awaited */
  droppedFrames: number;
}

/** What a codec made of one packet's payload, and what the shared logic needs from it. */
export interface RtpFramePart {
  /** The packet starts a frame (VP8: S=1 and partition 0; VP9: B=1; AV1: Z=0). */
  start: boolean;
  /** Bytes this packet adds (for the size limit). */
  size: number;
}

interface OpenFrame<State> {
  timestamp: number;
  /** undefined once the frame is known damaged (its data is let go at once) */
  state: State | undefined;
  size: number;
}

/**
 * The part of the VP8, VP9 and AV1 depacketizers that does not depend on the codec: sequence checks
 * (trackRtpSequence), frames ended by the marker bit or a timestamp change, the size limit, and key frame
 * recovery: output starts at a key frame and, after a loss (or a frame that could not be rebuilt), waits
 * for the next one, so a decoder never gets a frame whose references are missing. `keyFrameNeeded` says
 * when to ask the sender for one (PLI/FIR).
 */
export abstract class RtpFrameDepacketizer<Part extends RtpFramePart, State> {
  /** True until a key frame comes out, and again after a loss. */
  keyFrameNeeded = true;
  readonly stats: RtpFrameDepacketizerStats = { packets: 0, lost: 0, duplicates: 0, late: 0, frames: 0, droppedFrames: 0 };

  private readonly maxFrameSize: number;
  private lastSeq: number | undefined;
  private open: OpenFrame<State> | undefined;

  protected constructor(o: RtpFrameDepacketizerOptions) {
    this.maxFrameSize = o.maxFrameSize ?? 8 * 1024 * 1024;
  }

  /** Parse one payload; throws MediaError('BAD_RTP_PAYLOAD') when it is malformed. */
  protected abstract parse(payload: Buffer): Part;
  /** A packet with `start` set that begins another frame at the same timestamp (VP8: yes; VP9 layers, AV1: no). */
  protected abstract startsNewFrame(part: Part): boolean;
  /** State of a frame begun by this packet (then passed to `add` as well). */
  protected abstract begin(part: Part): State;
  /** Adds a packet to its frame; false when it does not fit what came before (the frame is damaged). */
  protected abstract add(state: State, part: Part): boolean;
  /** The finished frame, or undefined when it is incomplete or unreadable (a MediaError thrown counts the same). */
  protected abstract finish(state: State): RtpFinishedFrame | undefined;

  /** Bytes held for the open frame. */
  get bufferedBytes(): number {
    return this.open?.state ? this.open.size : 0;
  }

  /** Feed one packet (in sequence order); returns the frames it completes (0, 1 or 2). */
  push(pkt: RtpPacket): RtpVideoFrame[] {
    const out: RtpVideoFrame[] = [];
    this.stats.packets++;
    const seq = trackRtpSequence(this.stats, this.lastSeq, pkt.sequenceNumber);
    if (seq === 'skip') return out;
    this.lastSeq = pkt.sequenceNumber;
    // padding only (bandwidth probes): it takes a sequence number, nothing else
    if (pkt.payload.length === 0) {
      if (seq === 'gap') this.damage();
      return out;
    }

    let part: Part;
    try {
      part = this.parse(pkt.payload);
    } catch (e) {
      // a malformed packet counts as lost; its timestamp and marker are not trusted
      this.damage();
      throw e;
    }
    if (seq === 'gap') this.damage();
    if (this.open && (this.open.timestamp !== pkt.timestamp || (part.start && this.startsNewFrame(part)))) this.close(out);
    if (!this.open) {
      // a frame whose first packet is missing is dropped as a whole
      this.open = { timestamp: pkt.timestamp, state: part.start ? this.begin(part) : undefined, size: 0 };
      if (!part.start) this.keyFrameNeeded = true;
    }
    const open = this.open;
    if (open.state) {
      open.size += part.size;
      if (open.size > this.maxFrameSize || !this.add(open.state, part)) this.damage();
    }
    if (pkt.marker) this.close(out);
    return out;
  }

  /** Emit the open frame (end of stream: one cut before its marker cannot be told from a whole one). */
  flushPending(): RtpVideoFrame[] {
    const out: RtpVideoFrame[] = [];
    this.close(out);
    return out;
  }

  private damage(): void {
    this.keyFrameNeeded = true;
    if (this.open) this.open.state = undefined;
  }

  private close(out: RtpVideoFrame[]): void {
    const open = this.open;
    this.open = undefined;
    if (!open) return;
    let frame: RtpFinishedFrame | undefined;
    try {
      frame = open.state ? this.finish(open.state) : undefined;
    } catch (e) {
      if (!(e instanceof MediaError)) throw e;
    }
    if (frame && frame.data.length === 0) return; // nothing to decode (an AV1 temporal delimiter alone)
    if (!frame || (this.keyFrameNeeded && !frame.keyFrame)) {
      this.stats.droppedFrames++;
      if (!frame) this.keyFrameNeeded = true;
      return;
    }
    this.keyFrameNeeded = false;
    this.stats.frames++;
    out.push({ timestamp: open.timestamp, ...frame });
  }
}
