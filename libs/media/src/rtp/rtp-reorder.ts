import { MediaError } from '../media.errors';
import { RtpPacket, rtpSeqDiff } from './rtp-packet';

export interface RtpReorderOptions {
  /** Most packets held while waiting for a missing one (default 128); one more makes it skip the gap. */
  maxPackets?: number;
  /** Longest a packet waits for the ones before it, in ms (default 100); 0 never waits. */
  maxDelayMs?: number;
  /** A sequence number this far ahead of or behind the release point means the sender restarted (default 3000). */
  maxJump?: number;
}

export interface RtpReorderStats {
  /** packets pushed */
  packets: number;
  /** packets released */
  released: number;
  /** packets that arrived after a higher sequence number and were put back in order */
  reordered: number;
  /** second copies of a packet still held, dropped */
  duplicates: number;
  /** packets behind the release point (their gap was skipped, or a copy of one already released), dropped */
  late: number;
  /** gaps given up on (timeout, full buffer, flush) */
  skippedGaps: number;
  /** sequence numbers in those gaps: packets counted as lost here */
  skippedPackets: number;
  /** far jumps read as a sender restart */
  restarts: number;
}

interface Held {
  pkt: RtpPacket;
  arrivalMs: number;
}

/**
 * Puts RTP packets received over UDP back in sequence order (a jitter buffer without playout timing).
 * Packets are released as soon as every earlier one has been: in-order traffic passes through with no
 * delay. When one is missing, the later ones are held until it comes, until the oldest held packet has
 * waited `maxDelayMs`, or until more than `maxPackets` are held; then the gap is skipped (the depacketizer
 * after this sees the jump in sequence numbers and counts the loss) and a packet of that gap arriving
 * afterwards is dropped as late. Sequence numbers are extended across the 16-bit wrap (`rtpSeqDiff`), so
 * released packets are strictly increasing in extended sequence, except across a restart: a packet more
 * than `maxJump` away releases everything held and starts over at its number.
 *
 * There are no timers here: call `poll(nowMs)` at `nextDeadlineMs` (or periodically) to release packets
 * whose wait ran out while nothing arrived. Memory is bounded by `maxPackets`.
 */
export class RtpReorderBuffer {
  readonly stats: RtpReorderStats = { packets: 0, released: 0, reordered: 0, duplicates: 0, late: 0, skippedGaps: 0, skippedPackets: 0, restarts: 0 };

  private readonly maxPackets: number;
  private readonly maxDelayMs: number;
  private readonly maxJump: number;
  /** extended sequence number of the next packet to release; undefined before the first packet */
  private next: number | undefined;
  /** highest extended sequence number held or released */
  private highest = 0;
  private readonly held = new Map<number, Held>();

  constructor(o: RtpReorderOptions = {}) {
    this.maxPackets = o.maxPackets ?? 128;
    this.maxDelayMs = o.maxDelayMs ?? 100;
    this.maxJump = o.maxJump ?? 3000;
    if (!Number.isInteger(this.maxPackets) || this.maxPackets < 1) throw new MediaError('BAD_ARGUMENT', `maxPackets ${this.maxPackets} (at least 1)`);
    if (!(this.maxDelayMs >= 0)) throw new MediaError('BAD_ARGUMENT', `maxDelayMs ${this.maxDelayMs}`);
    if (!Number.isInteger(this.maxJump) || this.maxJump < 1 || this.maxJump > 32767) throw new MediaError('BAD_ARGUMENT', `maxJump ${this.maxJump} (1..32767)`);
  }

  /** Packets held now. */
  get size(): number {
    return this.held.size;
  }

  /** When the oldest held packet's wait runs out (call `poll` then); undefined when nothing is held. */
  get nextDeadlineMs(): number | undefined {
    const oldest = this.oldestArrivalMs();
    return oldest === undefined ? undefined : oldest + this.maxDelayMs;
  }

  /** Take one packet; returns the packets now released, in order (often just this one). */
  push(pkt: RtpPacket, nowMs: number): RtpPacket[] {
    const out: RtpPacket[] = [];
    this.stats.packets++;
    if (this.next === undefined) {
      this.next = pkt.sequenceNumber;
      this.highest = this.next - 1;
    }
    // `& 0xffff` is "mod 65536" for any integer in range, negative ones too
    const ext = this.next + rtpSeqDiff(pkt.sequenceNumber, this.next & 0xffff);
    const ahead = ext - this.next;
    if (ahead > this.maxJump || ahead < -this.maxJump) {
      this.stats.restarts++;
      this.releaseAll(out);
      this.next = ext;
      this.highest = ext - 1;
    } else if (ahead < 0) {
      this.stats.late++;
      this.release(out, nowMs);
      return out;
    } else if (this.held.has(ext)) {
      this.stats.duplicates++;
      this.release(out, nowMs);
      return out;
    }
    if (ext < this.highest) this.stats.reordered++;
    else this.highest = ext;
    this.held.set(ext, { pkt, arrivalMs: nowMs });
    this.release(out, nowMs);
    return out;
  }

  /** Release what waited long enough (nothing else arrived to trigger it). */
  poll(nowMs: number): RtpPacket[] {
    const out: RtpPacket[] = [];
    this.release(out, nowMs);
    return out;
  }

  /** Release everything held, skipping gaps (end of stream, pause). Later packets continue after them. */
  flush(): RtpPacket[] {
    const out: RtpPacket[] = [];
    this.releaseAll(out);
    return out;
  }

  /** Release the run that is complete, then skip gaps while the buffer is over its size or too old. */
  private release(out: RtpPacket[], nowMs: number): void {
    this.drain(out);
    while (this.held.size > 0) {
      const oldest = this.oldestArrivalMs()!;
      if (this.held.size <= this.maxPackets && nowMs - oldest < this.maxDelayMs) break;
      this.skipGap();
      this.drain(out);
    }
  }

  private releaseAll(out: RtpPacket[]): void {
    this.drain(out);
    while (this.held.size > 0) {
      this.skipGap();
      this.drain(out);
    }
  }

  private drain(out: RtpPacket[]): void {
    let h: Held | undefined;
    while ((h = this.held.get(this.next!)) !== undefined) {
      this.held.delete(this.next!);
      out.push(h.pkt);
      this.stats.released++;
      this.next!++;
    }
  }

  /** Move the release point to the lowest held packet. */
  private skipGap(): void {
    let lowest = Infinity;
    for (const k of this.held.keys()) if (k < lowest) lowest = k;
    this.stats.skippedGaps++;
    this.stats.skippedPackets += lowest - this.next!;
    this.next = lowest;
  }

  private oldestArrivalMs(): number | undefined {
    let oldest: number | undefined;
    for (const h of this.held.values()) if (oldest === undefined || h.arrivalMs < oldest) oldest = h.arrivalMs;
    return oldest;
  }
}
