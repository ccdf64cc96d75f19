import { H264NalType } from '../codecs/h264';
import { MediaError } from '../media.errors';
import { RtpPacket, RtpPayload, rtpSeqDiff } from './rtp-packet';

/** RTP clock rate of every video payload format. */
export const H264_RTP_CLOCK_RATE = 90000;
export const DEFAULT_RTP_MTU = 1200;

/** RFC 6184 payload structure types (the NAL type field of the first payload byte). */
export const H264RtpType = {
  STAP_A: 24,
  STAP_B: 25,
  MTAP16: 26,
  MTAP24: 27,
  FU_A: 28,
  FU_B: 29,
} as const;

export interface H264PacketizerOptions {
  /** Largest RTP payload in bytes (default 1200). At least 3. */
  mtu?: number;
  /** Aggregate small NAL units into STAP-A packets (default true). */
  stapA?: boolean;
}

/** A NAL type we can carry in packetization-mode 1 (1..23). */
function isCarriableNal(nal: Buffer): boolean {
  const t = nal.length > 0 ? nal[0] & 0x1f : 0;
  return t >= 1 && t <= 23;
}

/**
 * RFC 6184 packetization-mode 1 of one access unit (NAL units without start codes) into RTP payloads of
 * at most `mtu` bytes: single NAL unit packets, STAP-A for runs of small units (SPS+PPS+SEI before an IDR),
 * FU-A for units larger than the MTU. The marker is set on the last payload only. Empty units and types
 * 0 and 24..31 (which would be misread as RTP structures) are skipped. Single-unit payloads are the input
 * Buffers themselves (no copy).
 */
export function packetizeH264(nals: readonly Buffer[], o: H264PacketizerOptions = {}): RtpPayload[] {
  const mtu = o.mtu ?? DEFAULT_RTP_MTU;
  if (!Number.isInteger(mtu) || mtu < 3) throw new MediaError('BAD_ARGUMENT', `RTP MTU ${mtu} (at least 3)`);
  const aggregate = o.stapA ?? true;
  const out: Buffer[] = [];
  let group: Buffer[] = [];
  let groupSize = 1; // the STAP-A header byte

  const flush = () => {
    if (group.length === 1) out.push(group[0]);
    else if (group.length > 1) out.push(buildStapA(group, groupSize));
    group = [];
    groupSize = 1;
  };

  for (const nal of nals) {
    if (!isCarriableNal(nal)) continue;
    if (nal.length > mtu) {
      flush();
      fragmentFuA(nal, mtu, out);
    } else if (!aggregate) {
      out.push(nal);
    } else {
      // a lone unit goes out as a single NAL packet, so it only has to fit the MTU by itself
      if (group.length > 0 && groupSize + 2 + nal.length > mtu) flush();
      group.push(nal);
      groupSize += 2 + nal.length;
    }
  }
  flush();
  return out.map((payload, i) => ({ payload, marker: i === out.length - 1 }));
}

function buildStapA(nals: readonly Buffer[], size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let f = 0;
  let nri = 0;
  let off = 1;
  for (const n of nals) {
    f |= n[0] & 0x80;
    nri = Math.max(nri, n[0] & 0x60);
    off = out.writeUInt16BE(n.length, off);
    off += n.copy(out, off);
  }
  out[0] = f | nri | H264RtpType.STAP_A;
  return out;
}

function fragmentFuA(nal: Buffer, mtu: number, out: Buffer[]): void {
  const indicator = (nal[0] & 0xe0) | H264RtpType.FU_A;
  const type = nal[0] & 0x1f;
  const body = nal.length - 1;
  // equal-sized fragments instead of a tiny last one
  const count = Math.ceil(body / (mtu - 2));
  const chunk = Math.ceil(body / count);
  for (let off = 1; off < nal.length; off += chunk) {
    const end = Math.min(off + chunk, nal.length);
    const p = Buffer.allocUnsafe(2 + end - off);
    p[0] = indicator;
    p[1] = (off === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
    nal.copy(p, 2, off, end);
    out.push(p);
  }
}

/** One FU-A fragment; `header` is the NAL header byte it rebuilds (F, NRI from the indicator, type). */
export interface H264FuA {
  kind: 'fu-a';
  start: boolean;
  end: boolean;
  header: number;
  data: Buffer;
}

/** What one RTP payload carries: whole NAL units (single NAL or STAP-A) or one FU-A fragment. */
export type H264RtpPayloadUnit = { kind: 'nals'; nals: Buffer[] } | H264FuA;

/**
 * Parse one RFC 6184 payload (packetization-mode 1). NAL units are subarrays. Throws MediaError('BAD_NAL')
 * for an empty payload, a STAP-A unit past the end or of size 0, an FU-A with both S and E or carrying
 * type 0/24..31, and the types mode 1 does not allow (0, STAP-B, MTAP16/24, FU-B, 30, 31).
 */
export function parseH264RtpPayload(p: Buffer): H264RtpPayloadUnit {
  if (p.length === 0) throw new MediaError('BAD_NAL', 'empty H.264 RTP payload');
  const type = p[0] & 0x1f;
  if (type >= 1 && type <= 23) return { kind: 'nals', nals: [p] };
  if (type === H264RtpType.STAP_A) {
    const nals: Buffer[] = [];
    for (let off = 1; off < p.length; ) {
      if (off + 2 > p.length) throw new MediaError('BAD_NAL', 'STAP-A unit size runs past the payload');
      const n = p.readUInt16BE(off);
      off += 2;
      if (n === 0 || off + n > p.length) throw new MediaError('BAD_NAL', `STAP-A unit of ${n} bytes at ${off - 2} does not fit the payload (${p.length})`);
      nals.push(p.subarray(off, off + n));
      off += n;
    }
    if (nals.length === 0) throw new MediaError('BAD_NAL', 'empty STAP-A');
    return { kind: 'nals', nals };
  }
  if (type === H264RtpType.FU_A) {
    if (p.length < 3) throw new MediaError('BAD_NAL', `FU-A of ${p.length} bytes`);
    const fh = p[1];
    const start = (fh & 0x80) !== 0;
    const end = (fh & 0x40) !== 0;
    const nalType = fh & 0x1f;
    if (start && end) throw new MediaError('BAD_NAL', 'FU-A with both start and end bits');
    if (nalType < 1 || nalType > 23) throw new MediaError('BAD_NAL', `FU-A carrying NAL type ${nalType}`);
    return { kind: 'fu-a', start, end, header: (p[0] & 0xe0) | nalType, data: p.subarray(2) };
  }
  throw new MediaError('BAD_NAL', `H.264 RTP payload type ${type} is not allowed in packetization-mode 1`);
}

export interface H264AccessUnit {
  /** RTP timestamp (90 kHz) of the access unit */
  timestamp: number;
  /** NAL units without start codes; single units may be subarrays of the input packets */
  nals: Buffer[];
  /** false when a packet of this access unit was lost or a NAL unit of it dropped */
  complete: boolean;
}

export interface H264DepacketizerOptions {
  /** Largest NAL unit rebuilt from FU-A fragments; a larger one is dropped (default 4 MiB). */
  maxNalSize?: number;
  /** Largest access unit held; a larger one loses its NAL units so far (default 8 MiB). */
  maxAccessUnitSize?: number;
  /** Most NAL units per access unit (default 1024). */
  maxNalsPerAccessUnit?: number;
}

export interface H264DepacketizerStats {
  packets: number;
  /** packets missing in sequence gaps (or 1 per unexplained sequence jump backwards) */
  lost: number;
  duplicates: number;
  /** packets older than the last one, dropped */
  late: number;
  /** NAL units dropped: incomplete FU-A, over a limit */
  droppedNals: number;
  /** access units emitted */
  accessUnits: number;
}

/** A packet this far behind the last one is late or a duplicate; farther means the sender restarted. */
const MAX_MISORDER = 100;

interface OpenFu {
  header: number;
  parts: Buffer[];
  size: number;
}

interface PendingAu {
  timestamp: number;
  nals: Buffer[];
  size: number;
  complete: boolean;
}

/**
 * Rebuilds access units from H.264 RTP packets (RFC 6184 single NAL, STAP-A, FU-A) given in sequence order
 * (a jitter buffer, if any, sits before it). An access unit ends at the marker bit or when the timestamp
 * changes. Fragments are only joined across strictly consecutive sequence numbers, so a loss drops the
 * NAL unit instead of corrupting it; losses set `keyFrameNeeded` (send a PLI/FIR) until a complete access
 * unit with an IDR comes out. Throws MediaError('BAD_NAL') only for a malformed payload (empty, STAP-A
 * length past the end, FU with S and E, type 0/25/26/27/29/30/31); the state stays usable after it.
 */
export class H264Depacketizer {
  readonly stats: H264DepacketizerStats = { packets: 0, lost: 0, duplicates: 0, late: 0, droppedNals: 0, accessUnits: 0 };
  /** Set by a loss; cleared when a complete access unit with an IDR is emitted. */
  keyFrameNeeded = false;

  private readonly maxNalSize: number;
  private readonly maxAuSize: number;
  private readonly maxAuNals: number;
  private lastSeq: number | undefined;
  private fu: OpenFu | undefined;
  /** NAL header of a FU-A whose loss is already counted: its remaining fragments are dropped quietly. */
  private discardedFuHeader: number | undefined;
  private au: PendingAu | undefined;

  constructor(o: H264DepacketizerOptions = {}) {
    this.maxNalSize = o.maxNalSize ?? 4 * 1024 * 1024;
    this.maxAuSize = o.maxAccessUnitSize ?? 8 * 1024 * 1024;
    this.maxAuNals = o.maxNalsPerAccessUnit ?? 1024;
  }

  /** Bytes held for the open FU-A and the pending access unit. */
  get bufferedBytes(): number {
    return (this.fu?.size ?? 0) + (this.au?.size ?? 0);
  }

  /** Feed one packet; returns the access units it completes (0, 1 or 2). */
  push(pkt: RtpPacket): H264AccessUnit[] {
    const out: H264AccessUnit[] = [];
    this.stats.packets++;
    let gap = false;
    if (this.lastSeq !== undefined) {
      const d = rtpSeqDiff(pkt.sequenceNumber, this.lastSeq);
      if (d === 0) {
        this.stats.duplicates++;
        return out;
      }
      if (d < 0 && d > -MAX_MISORDER) {
        this.stats.late++;
        return out;
      }
      if (d !== 1) {
        gap = true;
        this.stats.lost += d > 1 ? d - 1 : 1;
      }
    }
    this.lastSeq = pkt.sequenceNumber;

    let unit: H264RtpPayloadUnit;
    try {
      unit = parseH264RtpPayload(pkt.payload);
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

    if (unit.kind === 'fu-a') {
      this.fuA(unit);
    } else {
      if (this.dropFu()) this.markLoss();
      this.discardedFuHeader = undefined;
      for (const n of unit.nals) this.addNal(n);
    }
    if (pkt.marker) this.flush(out);
    return out;
  }

  /** Emit the pending access unit, if any (end of stream). */
  flushPending(): H264AccessUnit[] {
    const out: H264AccessUnit[] = [];
    this.flush(out);
    return out;
  }

  private fuA(u: H264FuA): void {
    let fu = this.fu;
    if (u.start) {
      if (this.dropFu()) this.markLoss();
      this.discardedFuHeader = undefined;
      fu = { header: u.header, parts: [Buffer.of(u.header), u.data], size: 1 + u.data.length };
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

  /** Drop the open FU-A, if any; true when there was one. */
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

  private flush(out: H264AccessUnit[]): void {
    const au = this.au;
    this.au = undefined;
    if (this.fu) {
      // a FU never spans access units
      this.dropFu();
      if (au) au.complete = false;
      this.keyFrameNeeded = true;
    }
    if (!au || au.nals.length === 0) return;
    this.stats.accessUnits++;
    if (au.complete && au.nals.some((n) => (n[0] & 0x1f) === H264NalType.IDR)) this.keyFrameNeeded = false;
    out.push({ timestamp: au.timestamp, nals: au.nals, complete: au.complete });
  }
}
