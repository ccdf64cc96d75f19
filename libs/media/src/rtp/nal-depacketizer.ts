import { RtpPacket, rtpSeqDiff } from './rtp-packet';

/** A packet this far behind the last one is late or a duplicate; farther means the sender restarted. */
const MAX_MISORDER = 100;

/** The sequence counters kept by every depacketizer. */
export interface RtpSequenceStats {
  /** packets missing in sequence gaps (or 1 per unexplained sequence jump backwards) */
  lost: number;
  duplicates: number;
  /** packets older than the last one, dropped */
  late: number;
}

/**
 * Sequence bookkeeping of a depacketizer fed in sequence order: 'skip' for a duplicate or a late packet
 * (less than 100 behind `lastSeq`), 'gap' when packets are missing before this one or the sender restarted
 * (a farther jump back), else 'next'. Counts `duplicates`, `late` and `lost` in `stats`.
 */
export function trackRtpSequence(stats: RtpSequenceStats, lastSeq: number | undefined, seq: number): 'skip' | 'gap' | 'next' {
  if (lastSeq === undefined) return 'next';
  const d = rtpSeqDiff(seq, lastSeq);
  if (d === 0) {
    stats.duplicates++;
    return 'skip';
  }
  if (d < 0 && d > -MAX_MISORDER) {
    stats.late++;
    return 'skip';
  }
  if (d !== 1) {
    stats.lost += d > 1 ? d - 1 : 1;
    return 'gap';
  }
  return 'next';
}

/** An access unit rebuilt from H.264 or H.265 RTP packets. */
export interface NalAccessUnit {
  /** RTP timestamp (90 kHz) of the access unit */
  timestamp: number;
  /** NAL units without start codes; single units may be subarrays of the input packets */
  nals: Buffer[];
  /** false when a packet of this access unit was lost or a NAL unit of it dropped */
  complete: boolean;
}

export interface NalDepacketizerOptions {
  /** Largest NAL unit rebuilt from fragments (FU-A, FU); a larger one is dropped (default 4 MiB). */
  maxNalSize?: number;
  /** Largest access unit held; a larger one loses its NAL units so far (default 8 MiB). */
  maxAccessUnitSize?: number;
  /** Most NAL units per access unit (default 1024). */
  maxNalsPerAccessUnit?: number;
}

export interface NalDepacketizerStats extends RtpSequenceStats {
  packets: number;
  /** NAL units dropped: incomplete fragmented unit (FU-A, FU), over a limit */
  droppedNals: number;
  /** access units emitted */
  accessUnits: number;
}

/** One fragment of a NAL unit (H.264 FU-A, H.265 FU); `header` is the NAL unit header it rebuilds. */
export interface NalFragment {
  kind: 'fu';
  start: boolean;
  end: boolean;
  header: number;
  data: Buffer;
}

/**
 * One RTP payload as the shared logic sees it: whole NAL units (single NAL unit packet, STAP-A, AP), one
 * fragment, or a structure the codec does not read (H.265 PACI).
 */
export type NalRtpPayload = { kind: 'nals'; nals: Buffer[] } | NalFragment | { kind: 'unsupported' };

interface OpenFragmentedNal {
  header: number;
  parts: Buffer[];
  size: number;
}

interface PendingAccessUnit {
  timestamp: number;
  nals: Buffer[];
  size: number;
  complete: boolean;
}

/**
 * The part of the H.264 (RFC 6184) and H.265 (RFC 7798) depacketizers that does not depend on the codec:
 * sequence checks, access units ended by the marker bit or a timestamp change, fragment reassembly within
 * limits, loss accounting and `keyFrameNeeded`. A codec supplies how a payload is parsed, how the NAL
 * header of a fragmented unit is written, and which NAL units make a key picture.
 */
export abstract class NalDepacketizer<Stats extends NalDepacketizerStats> {
  /** Set by a loss; cleared when a complete access unit with a key picture (IDR, IRAP) is emitted. */
  keyFrameNeeded = false;

  private readonly maxNalSize: number;
  private readonly maxAuSize: number;
  private readonly maxAuNals: number;
  private lastSeq: number | undefined;
  private fu: OpenFragmentedNal | undefined;
  /** NAL header of a fragmented unit whose loss is already counted: its remaining fragments are dropped quietly. */
  private discardedFuHeader: number | undefined;
  private au: PendingAccessUnit | undefined;

  protected constructor(
    readonly stats: Stats,
    o: NalDepacketizerOptions,
  ) {
    this.maxNalSize = o.maxNalSize ?? 4 * 1024 * 1024;
    this.maxAuSize = o.maxAccessUnitSize ?? 8 * 1024 * 1024;
    this.maxAuNals = o.maxNalsPerAccessUnit ?? 1024;
  }

  /** Parse one payload; throws MediaError('BAD_NAL') when it is malformed. */
  protected abstract parsePayload(payload: Buffer): NalRtpPayload;
  /** The NAL unit header bytes of a reassembled unit (1 for H.264, 2 for H.265). */
  protected abstract nalHeaderBytes(header: number): Buffer;
  /** Whether this NAL unit makes its access unit a key picture (IDR, IRAP). */
  protected abstract isKeyPicture(nal: Buffer): boolean;

  /** Counts a payload of kind 'unsupported'. */
  protected countUnsupported(): void {
    // only codecs whose parser can return 'unsupported' (H.265) count it
  }

  /** Bytes held for the open fragmented unit and the pending access unit. */
  get bufferedBytes(): number {
    return (this.fu?.size ?? 0) + (this.au?.size ?? 0);
  }

  /** Feed one packet; returns the access units it completes (0, 1 or 2). */
  push(pkt: RtpPacket): NalAccessUnit[] {
    const out: NalAccessUnit[] = [];
    this.stats.packets++;
    const seq = trackRtpSequence(this.stats, this.lastSeq, pkt.sequenceNumber);
    if (seq === 'skip') return out;
    const gap = seq === 'gap';
    this.lastSeq = pkt.sequenceNumber;
    // Padding-only packets (WebRTC bandwidth probes without RTX) carry no payload and are not a loss.
    if (pkt.payload.length === 0) {
      if (gap) {
        this.dropFu();
        this.markLoss();
      }
      return out;
    }

    let unit: NalRtpPayload;
    try {
      unit = this.parsePayload(pkt.payload);
    } catch (e) {
      // a malformed packet counts as lost; its timestamp and marker are not trusted
      this.dropFu();
      this.markLoss();
      throw e;
    }

    if (gap) {
      this.dropFu();
      this.markLoss();
    }
    if (this.au && this.au.timestamp !== pkt.timestamp) this.flush(out);
    if (!this.au) this.au = { timestamp: pkt.timestamp, nals: [], size: 0, complete: !gap };

    if (unit.kind === 'fu') {
      this.fragment(unit);
    } else {
      if (this.dropFu()) this.markLoss();
      this.discardedFuHeader = undefined;
      if (unit.kind === 'unsupported') {
        this.countUnsupported();
        this.markLoss();
      } else {
        for (const n of unit.nals) this.addNal(n);
      }
    }
    if (pkt.marker) this.flush(out);
    return out;
  }

  /** Emit the pending access unit, if any (end of stream). */
  flushPending(): NalAccessUnit[] {
    const out: NalAccessUnit[] = [];
    this.flush(out);
    return out;
  }

  private fragment(u: NalFragment): void {
    let fu = this.fu;
    if (u.start) {
      if (this.dropFu()) this.markLoss();
      this.discardedFuHeader = undefined;
      const header = this.nalHeaderBytes(u.header);
      fu = { header: u.header, parts: [header, u.data], size: header.length + u.data.length };
      this.fu = fu;
    } else if (!fu || fu.header !== u.header) {
      // a middle or end without its start (or of another unit): that unit is lost, counted once
      this.dropFu();
      if (this.discardedFuHeader !== u.header) this.stats.droppedNals++;
      this.discardedFuHeader = u.end ? undefined : u.header;
      this.markLoss();
      return;
    } else {
      fu.parts.push(u.data);
      fu.size += u.data.length;
    }
    if (fu.size > this.maxNalSize) {
      this.dropFu();
      this.markLoss();
    } else if (u.end) {
      this.fu = undefined;
      this.addNal(Buffer.concat(fu.parts, fu.size));
    }
  }

  private addNal(nal: Buffer): void {
    const au = this.au;
    if (!au) return;
    if (au.size + nal.length > this.maxAuSize || au.nals.length >= this.maxAuNals) {
      this.stats.droppedNals += au.nals.length + 1;
      au.nals = [];
      au.size = 0;
      this.markLoss();
      return;
    }
    au.nals.push(nal);
    au.size += nal.length;
  }

  /** Drop the open fragmented unit, if any; true when there was one. */
  private dropFu(): boolean {
    if (!this.fu) return false;
    this.discardedFuHeader = this.fu.header;
    this.fu = undefined;
    this.stats.droppedNals++;
    return true;
  }

  private markLoss(): void {
    this.keyFrameNeeded = true;
    if (this.au) this.au.complete = false;
  }

  private flush(out: NalAccessUnit[]): void {
    const au = this.au;
    this.au = undefined;
    if (this.fu) {
      // a fragmented unit never spans access units
      this.dropFu();
      if (au) au.complete = false;
      this.keyFrameNeeded = true;
    }
    if (!au || au.nals.length === 0) return;
    this.stats.accessUnits++;
    if (au.complete && au.nals.some((n) => this.isKeyPicture(n))) this.keyFrameNeeded = false;
    out.push({ timestamp: au.timestamp, nals: au.nals, complete: au.complete });
  }
}
