import { MediaError } from '../media.errors';
import { ntpMiddle32, rtpTimestampDiff, unixMsToNtp } from './rtp-clock';

/** RTCP packet types (RFC 3550 12.1, RFC 4585 6.1, RFC 3611). */
export const RtcpPacketType = {
  SR: 200,
  RR: 201,
  SDES: 202,
  BYE: 203,
  APP: 204,
  /** transport-layer feedback (RFC 4585): FMT 1 = generic NACK */
  RTPFB: 205,
  /** payload-specific feedback (RFC 4585, RFC 5104): FMT 1 = PLI, FMT 4 = FIR */
  PSFB: 206,
  XR: 207,
} as const;

/** One reception report block (RFC 3550 6.4.1), 24 bytes on the wire. */
export interface RtcpReportBlock {
  /** the source this block reports on */
  ssrc: number;
  /** fraction of packets lost since the previous report, in 1/256 (0..255) */
  fractionLost: number;
  /** packets lost since the start, signed 24-bit (duplicates can make it negative) */
  cumulativeLost: number;
  /** extended highest sequence number: cycles << 16 | highest sequence number */
  highestSeq: number;
  /** interarrival jitter in timestamp units */
  jitter: number;
  /** LSR: middle 32 bits of the NTP timestamp of the last SR received from the source, 0 if none */
  lastSr: number;
  /** DLSR: delay from receiving that SR to sending this block, in 1/65536 s */
  delaySinceLastSr: number;
}

/** The fields of a sender report (RFC 3550 6.4.1), what `buildSenderReport` takes. */
export interface RtcpSenderReportFields {
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  /** the RTP timestamp that corresponds to the NTP time, in the track's clock */
  rtpTimestamp: number;
  /** packets sent since the start (wraps at 2^32) */
  packetCount: number;
  /** payload octets sent since the start (wraps at 2^32) */
  octetCount: number;
  reports: RtcpReportBlock[];
}

export interface RtcpSenderReport extends RtcpSenderReportFields {
  type: 'sr';
}

export interface RtcpReceiverReport {
  type: 'rr';
  ssrc: number;
  reports: RtcpReportBlock[];
}

export interface RtcpSdes {
  type: 'sdes';
  /** one per chunk; cname when the chunk has a CNAME item */
  chunks: { ssrc: number; cname?: string }[];
}

export interface RtcpBye {
  type: 'bye';
  ssrcs: number[];
  reason?: string;
}

/** Picture Loss Indication (RFC 4585 6.3.1): please send a key frame. */
export interface RtcpPli {
  type: 'pli';
  senderSsrc: number;
  mediaSsrc: number;
}

/** Full Intra Request (RFC 5104 4.3.1): a key frame for each entry; `seq` tells repeats from new requests. */
export interface RtcpFir {
  type: 'fir';
  senderSsrc: number;
  entries: { ssrc: number; seq: number }[];
}

/** Generic NACK (RFC 4585 6.2.1), the PID + BLP pairs expanded to the lost sequence numbers. */
export interface RtcpNack {
  type: 'nack';
  senderSsrc: number;
  mediaSsrc: number;
  lost: number[];
}

/** APP, XR and feedback formats this module does not decode: the packet type, the 5-bit count/FMT field and the body after the 4-byte header (padding removed). */
export interface RtcpUnknown {
  type: 'unknown';
  packetType: number;
  count: number;
  body: Buffer;
}

export type RtcpPacket = RtcpSenderReport | RtcpReceiverReport | RtcpSdes | RtcpBye | RtcpPli | RtcpFir | RtcpNack | RtcpUnknown;

const REPORT_BLOCK_SIZE = 24;
const SDES_CNAME = 1;

function badRtcp(reason: string): never {
  throw new MediaError('BAD_RTCP', reason);
}

/**
 * Parse a compound RTCP packet (one UDP datagram or interleaved frame): the packets in order. Every packet
 * must have version 2 and a length inside the buffer; padding is honoured. Anything malformed anywhere
 * throws MediaError('BAD_RTCP') and nothing is returned: RFC 3550 A.2 has the whole datagram dropped.
 * Known types whose body is too short for their count (report blocks, SDES chunks, BYE sources, feedback
 * FCI) throw too; unknown types and feedback formats come back as 'unknown'. Memory is linear in the input
 * (a NACK expands to at most 17 numbers per 4 bytes). The first packet is not required to be SR/RR, so
 * reduced-size RTCP (RFC 5506) is accepted.
 */
export function parseRtcpCompound(buf: Buffer): RtcpPacket[] {
  if (buf.length === 0) badRtcp('empty RTCP packet');
  const out: RtcpPacket[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 4 > buf.length) badRtcp(`RTCP header at ${off} runs past the end (${buf.length})`);
    const b0 = buf[off];
    if (b0 >>> 6 !== 2) badRtcp(`RTCP version ${b0 >>> 6} at ${off}`);
    const count = b0 & 0x1f;
    const packetType = buf[off + 1];
    const size = (buf.readUInt16BE(off + 2) + 1) * 4;
    if (off + size > buf.length) badRtcp(`RTCP packet of ${size} bytes at ${off} runs past the end (${buf.length})`);
    let end = off + size;
    if (b0 & 0x20) {
      const padding = buf[end - 1];
      if (padding === 0 || padding > size - 4) badRtcp(`RTCP padding of ${padding} bytes in a packet of ${size}`);
      end -= padding;
    }
    out.push(parsePacket(packetType, count, buf.subarray(off + 4, end)));
    off += size;
  }
  return out;
}

function parsePacket(packetType: number, count: number, body: Buffer): RtcpPacket {
  switch (packetType) {
    case RtcpPacketType.SR: {
      need(body, 24 + count * REPORT_BLOCK_SIZE, `SR with ${count} report blocks`);
      return {
        type: 'sr',
        ssrc: body.readUInt32BE(0),
        ntpSeconds: body.readUInt32BE(4),
        ntpFraction: body.readUInt32BE(8),
        rtpTimestamp: body.readUInt32BE(12),
        packetCount: body.readUInt32BE(16),
        octetCount: body.readUInt32BE(20),
        reports: readReportBlocks(body, 24, count),
      };
    }
    case RtcpPacketType.RR:
      need(body, 4 + count * REPORT_BLOCK_SIZE, `RR with ${count} report blocks`);
      return { type: 'rr', ssrc: body.readUInt32BE(0), reports: readReportBlocks(body, 4, count) };
    case RtcpPacketType.SDES:
      return { type: 'sdes', chunks: readSdesChunks(body, count) };
    case RtcpPacketType.BYE:
      return readBye(body, count);
    case RtcpPacketType.RTPFB:
      if (count === 1) {
        need(body, 8, 'generic NACK');
        if ((body.length - 8) % 4 !== 0) badRtcp(`generic NACK FCI of ${body.length - 8} bytes is not whole entries`);
        const lost: number[] = [];
        for (let off = 8; off < body.length; off += 4) {
          const pid = body.readUInt16BE(off);
          const blp = body.readUInt16BE(off + 2);
          lost.push(pid);
          for (let bit = 0; bit < 16; bit++) if (blp & (1 << bit)) lost.push((pid + bit + 1) & 0xffff);
        }
        return { type: 'nack', senderSsrc: body.readUInt32BE(0), mediaSsrc: body.readUInt32BE(4), lost };
      }
      break;
    case RtcpPacketType.PSFB:
      if (count === 1) {
        need(body, 8, 'PLI');
        return { type: 'pli', senderSsrc: body.readUInt32BE(0), mediaSsrc: body.readUInt32BE(4) };
      }
      if (count === 4) {
        need(body, 8, 'FIR');
        if ((body.length - 8) % 8 !== 0) badRtcp(`FIR FCI of ${body.length - 8} bytes is not whole 8-byte entries`);
        const entries: RtcpFir['entries'] = [];
        for (let off = 8; off < body.length; off += 8) entries.push({ ssrc: body.readUInt32BE(off), seq: body[off + 4] });
        return { type: 'fir', senderSsrc: body.readUInt32BE(0), entries };
      }
      break;
    default:
      break;
  }
  return { type: 'unknown', packetType, count, body };
}

function need(body: Buffer, bytes: number, what: string): void {
  if (body.length < bytes) badRtcp(`${what} needs ${bytes} bytes after the header, has ${body.length}`);
}

function readReportBlocks(body: Buffer, off: number, count: number): RtcpReportBlock[] {
  const blocks: RtcpReportBlock[] = [];
  for (let i = 0; i < count; i++, off += REPORT_BLOCK_SIZE) {
    blocks.push({
      ssrc: body.readUInt32BE(off),
      fractionLost: body[off + 4],
      cumulativeLost: body.readIntBE(off + 5, 3),
      highestSeq: body.readUInt32BE(off + 8),
      jitter: body.readUInt32BE(off + 12),
      lastSr: body.readUInt32BE(off + 16),
      delaySinceLastSr: body.readUInt32BE(off + 20),
    });
  }
  return blocks;
}

/** RFC 3550 6.5: chunks of SSRC + items, each chunk ended by a null item and padded to 32 bits. */
function readSdesChunks(body: Buffer, count: number): RtcpSdes['chunks'] {
  const chunks: RtcpSdes['chunks'] = [];
  let off = 0;
  for (let i = 0; i < count; i++) {
    if (off + 4 > body.length) badRtcp(`SDES chunk ${i} of ${count} runs past the packet`);
    const chunk: RtcpSdes['chunks'][number] = { ssrc: body.readUInt32BE(off) };
    off += 4;
    // a chunk whose items fill the packet exactly, without the null item, is tolerated
    while (off < body.length) {
      const itemType = body[off];
      if (itemType === 0) {
        off = (off + 4) & ~3; // the null item and the padding up to the next 32-bit boundary
        break;
      }
      if (off + 2 > body.length) badRtcp(`SDES item at ${off} runs past the packet`);
      const len = body[off + 1];
      if (off + 2 + len > body.length) badRtcp(`SDES item of ${len} bytes at ${off} runs past the packet`);
      if (itemType === SDES_CNAME && chunk.cname === undefined) chunk.cname = body.toString('utf8', off + 2, off + 2 + len);
      off += 2 + len;
    }
    chunks.push(chunk);
  }
  return chunks;
}

function readBye(body: Buffer, count: number): RtcpBye {
  need(body, 4 * count, `BYE with ${count} sources`);
  const ssrcs: number[] = [];
  for (let i = 0; i < count; i++) ssrcs.push(body.readUInt32BE(4 * i));
  const bye: RtcpBye = { type: 'bye', ssrcs };
  const off = 4 * count;
  if (off < body.length && body[off] > 0) {
    const len = body[off];
    if (off + 1 + len > body.length) badRtcp(`BYE reason of ${len} bytes runs past the packet`);
    bye.reason = body.toString('utf8', off + 1, off + 1 + len);
  }
  return bye;
}

// ---------------------------------------------------------------------------------------------- builders

function checkUint32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new MediaError('BAD_ARGUMENT', `RTCP ${name} ${v} is not a uint32`);
}

/** A packet of `bodySize` bytes (a multiple of 4) after its header, the header written. */
function allocPacket(count: number, packetType: number, bodySize: number): Buffer {
  const words = (4 + bodySize) / 4 - 1;
  if (count > 31) throw new MediaError('BAD_ARGUMENT', `RTCP count ${count} (at most 31)`);
  if (words > 0xffff) throw new MediaError('BAD_ARGUMENT', `RTCP packet of ${4 + bodySize} bytes is too long`);
  const out = Buffer.alloc(4 + bodySize);
  out[0] = 0x80 | count;
  out[1] = packetType;
  out.writeUInt16BE(words, 2);
  return out;
}

function writeReportBlocks(out: Buffer, off: number, blocks: readonly RtcpReportBlock[]): void {
  for (const b of blocks) {
    checkUint32('report block SSRC', b.ssrc);
    if (!Number.isInteger(b.fractionLost) || b.fractionLost < 0 || b.fractionLost > 255) throw new MediaError('BAD_ARGUMENT', `RTCP fraction lost ${b.fractionLost} outside 0..255`);
    if (!Number.isInteger(b.cumulativeLost)) throw new MediaError('BAD_ARGUMENT', `RTCP cumulative lost ${b.cumulativeLost}`);
    checkUint32('jitter', b.jitter);
    checkUint32('LSR', b.lastSr);
    checkUint32('DLSR', b.delaySinceLastSr);
    out.writeUInt32BE(b.ssrc, off);
    out[off + 4] = b.fractionLost;
    // RFC 3550 A.3: the 24-bit field saturates instead of wrapping
    out.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, b.cumulativeLost)), off + 5, 3);
    out.writeUInt32BE(b.highestSeq >>> 0, off + 8);
    out.writeUInt32BE(b.jitter, off + 12);
    out.writeUInt32BE(b.lastSr, off + 16);
    out.writeUInt32BE(b.delaySinceLastSr, off + 20);
    off += REPORT_BLOCK_SIZE;
  }
}

/** Count fields wrap modulo 2^32 (RFC 3550 6.4.1); they must be non-negative integers. */
function wrapCount(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new MediaError('BAD_ARGUMENT', `RTCP ${name} ${v}`);
  return v >>> 0;
}

/** A sender report (RFC 3550 6.4.1) with up to 31 report blocks (`reports` may be omitted). Packet and octet counts wrap at 2^32. */
export function buildSenderReport(sr: Omit<RtcpSenderReportFields, 'reports'> & { reports?: readonly RtcpReportBlock[] }): Buffer {
  const reports = sr.reports ?? [];
  checkUint32('SSRC', sr.ssrc);
  checkUint32('NTP seconds', sr.ntpSeconds);
  checkUint32('NTP fraction', sr.ntpFraction);
  checkUint32('RTP timestamp', sr.rtpTimestamp);
  const out = allocPacket(reports.length, RtcpPacketType.SR, 24 + reports.length * REPORT_BLOCK_SIZE);
  out.writeUInt32BE(sr.ssrc, 4);
  out.writeUInt32BE(sr.ntpSeconds, 8);
  out.writeUInt32BE(sr.ntpFraction, 12);
  out.writeUInt32BE(sr.rtpTimestamp, 16);
  out.writeUInt32BE(wrapCount('packet count', sr.packetCount), 20);
  out.writeUInt32BE(wrapCount('octet count', sr.octetCount), 24);
  writeReportBlocks(out, 28, reports);
  return out;
}

/** A receiver report (RFC 3550 6.4.2) with up to 31 report blocks (none is legal: "I am alive"). */
export function buildReceiverReport(rr: { ssrc: number; reports: readonly RtcpReportBlock[] }): Buffer {
  checkUint32('SSRC', rr.ssrc);
  const out = allocPacket(rr.reports.length, RtcpPacketType.RR, 4 + rr.reports.length * REPORT_BLOCK_SIZE);
  out.writeUInt32BE(rr.ssrc, 4);
  writeReportBlocks(out, 8, rr.reports);
  return out;
}

/** An SDES packet (RFC 3550 6.5) with one chunk holding a CNAME item (at most 255 bytes of UTF-8). */
export function buildSdes(ssrc: number, cname: string): Buffer {
  checkUint32('SSRC', ssrc);
  const text = Buffer.from(cname, 'utf8');
  if (text.length > 255) throw new MediaError('BAD_ARGUMENT', `CNAME of ${text.length} bytes (at most 255)`);
  // SSRC, type + length + text, then at least one null byte, padded to 32 bits
  const chunkSize = (4 + 2 + text.length + 4) & ~3;
  const out = allocPacket(1, RtcpPacketType.SDES, chunkSize);
  out.writeUInt32BE(ssrc, 4);
  out[8] = SDES_CNAME;
  out[9] = text.length;
  text.copy(out, 10);
  return out;
}

/** A BYE (RFC 3550 6.6) for up to 31 sources, with an optional reason (at most 255 bytes of UTF-8). */
export function buildBye(ssrcs: readonly number[], reason?: string): Buffer {
  ssrcs.forEach((s) => checkUint32('SSRC', s));
  const text = reason === undefined ? undefined : Buffer.from(reason, 'utf8');
  if (text && text.length > 255) throw new MediaError('BAD_ARGUMENT', `BYE reason of ${text.length} bytes (at most 255)`);
  const reasonSize = text ? (1 + text.length + 3) & ~3 : 0;
  const out = allocPacket(ssrcs.length, RtcpPacketType.BYE, 4 * ssrcs.length + reasonSize);
  ssrcs.forEach((s, i) => out.writeUInt32BE(s, 4 + 4 * i));
  if (text) {
    const off = 4 + 4 * ssrcs.length;
    out[off] = text.length;
    text.copy(out, off + 1);
  }
  return out;
}

function feedbackPacket(packetType: number, fmt: number, senderSsrc: number, mediaSsrc: number, fciSize: number): Buffer {
  checkUint32('sender SSRC', senderSsrc);
  checkUint32('media SSRC', mediaSsrc);
  const out = allocPacket(fmt, packetType, 8 + fciSize);
  out.writeUInt32BE(senderSsrc, 4);
  out.writeUInt32BE(mediaSsrc, 8);
  return out;
}

/** A Picture Loss Indication (RFC 4585 6.3.1): asks the sender of `mediaSsrc` for a key frame. */
export function buildPli(senderSsrc: number, mediaSsrc: number): Buffer {
  return feedbackPacket(RtcpPacketType.PSFB, 1, senderSsrc, mediaSsrc, 0);
}

/**
 * A Full Intra Request (RFC 5104 4.3.1) for `mediaSsrc`. `seq` (taken modulo 256) must change for each new
 * request and stay the same for a repetition. The header's media source field is 0 as RFC 5104 asks.
 */
export function buildFir(senderSsrc: number, mediaSsrc: number, seq: number): Buffer {
  checkUint32('media SSRC', mediaSsrc);
  const out = feedbackPacket(RtcpPacketType.PSFB, 4, senderSsrc, 0, 8);
  out.writeUInt32BE(mediaSsrc, 12);
  out[16] = seq & 0xff;
  return out;
}

/**
 * A generic NACK (RFC 4585 6.2.1) for the lost sequence numbers of `mediaSsrc`, in any order: duplicates
 * removed, sorted in circular order starting after the widest hole between them (so 65534, 65535, 0, 1 stay
 * one run), packed into PID + 16-bit BLP entries. Needs at least one number.
 */
export function buildNack(senderSsrc: number, mediaSsrc: number, lost: readonly number[]): Buffer {
  if (lost.length === 0) throw new MediaError('BAD_ARGUMENT', 'a NACK needs at least one lost sequence number');
  for (const s of lost) {
    if (!Number.isInteger(s) || s < 0 || s > 0xffff) throw new MediaError('BAD_ARGUMENT', `sequence number ${s} outside 0..65535`);
  }
  // circular order starting after the widest hole, so a run across 65535 -> 0 stays together
  const sorted = [...new Set(lost)].sort((a, b) => a - b);
  let start = 0;
  let widest = sorted[0] + 0x10000 - sorted[sorted.length - 1];
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] - sorted[i - 1] > widest) {
      widest = sorted[i] - sorted[i - 1];
      start = i;
    }
  }
  const ordered = [...sorted.slice(start), ...sorted.slice(0, start)];
  const entries: [number, number][] = [];
  for (const s of ordered) {
    const last = entries[entries.length - 1];
    const d = last ? (s - last[0]) & 0xffff : 0;
    if (last && d >= 1 && d <= 16) last[1] |= 1 << (d - 1);
    else entries.push([s, 0]);
  }
  const out = feedbackPacket(RtcpPacketType.RTPFB, 1, senderSsrc, mediaSsrc, 4 * entries.length);
  entries.forEach(([pid, blp], i) => {
    out.writeUInt16BE(pid, 12 + 4 * i);
    out.writeUInt16BE(blp, 14 + 4 * i);
  });
  return out;
}

/** Packets -> one compound packet (RFC 3550 6.1: start with SR or RR, include SDES CNAME). */
export function concatRtcp(parts: readonly Buffer[]): Buffer {
  return Buffer.concat(parts as Buffer[]);
}

// ------------------------------------------------------------------------------------------- statistics

/** RFC 3550 A.1: sequence jumps up to this far ahead are gaps (losses); farther ones need confirmation. */
const MAX_DROPOUT = 3000;
/** RFC 3550 A.1: up to this far behind the highest is a late or duplicate packet. */
const MAX_MISORDER = 100;
const SEQ_MOD = 0x10000;

/**
 * Reception statistics of one source, for its report blocks (RFC 3550 A.1 sequence validation, A.3 loss,
 * A.8 jitter). The source is known from signalling (SDP/SETUP), so unlike A.1 there is no probation: the
 * first packet starts the count. A jump of more than 3000 ahead or 100 behind is ignored unless the next
 * packet continues from it, which means the sender restarted: the counts start over there.
 */
export class RtpReceiverStats {
  private started = false;
  private maxSeq = 0;
  /** shifted count of sequence number cycles (a multiple of 65536) */
  private cycles = 0;
  private baseSeq = 0;
  private badSeq = SEQ_MOD + 1;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  /** A.8 jitter estimate in timestamp units, kept fractional */
  private jitterUnits = 0;
  private prev: { arrivalMs: number; timestamp: number } | undefined;
  private lastSr = 0;
  private lastSrArrivalMs: number | undefined;

  constructor(
    readonly ssrc: number,
    readonly clockRate: number,
  ) {}

  /** Packets counted (duplicates and late ones included, as RFC 3550 A.3 does). */
  get packetsReceived(): number {
    return this.received;
  }

  /** Expected minus received since the start (negative with duplicates). */
  get cumulativeLost(): number {
    return this.started ? this.extendedMax - this.baseSeq + 1 - this.received : 0;
  }

  /** Interarrival jitter in ms. */
  get jitterMs(): number {
    return (this.jitterUnits * 1000) / this.clockRate;
  }

  private get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  /**
   * Account one packet of this source. Returns false when the packet was set aside as a possible restart
   * (a big jump not yet confirmed), true otherwise.
   */
  onPacket(pkt: { sequenceNumber: number; timestamp: number }, arrivalMs: number): boolean {
    const seq = pkt.sequenceNumber & 0xffff;
    if (!this.started) {
      this.started = true;
      this.initSeq(seq);
    } else {
      const udelta = (seq - this.maxSeq) & 0xffff;
      if (udelta < MAX_DROPOUT) {
        if (seq < this.maxSeq) this.cycles += SEQ_MOD; // wrapped
        this.maxSeq = seq;
      } else if (udelta <= SEQ_MOD - MAX_MISORDER) {
        if (seq !== this.badSeq) {
          this.badSeq = (seq + 1) & 0xffff;
          return false;
        }
        // two sequential packets after a big jump: the sender restarted
        this.initSeq(seq);
        this.prev = undefined;
      }
      // else: duplicate or reordered, counted as received
    }
    this.received++;
    this.updateJitter(pkt.timestamp >>> 0, arrivalMs);
    return true;
  }

  private initSeq(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  /**
   * RFC 3550 A.8: D = (Rj - Ri) - (Sj - Si), the change in transit time between this packet and the previous
   * one, in timestamp units; J += (|D| - J) / 16. Computed from differences, so neither the arrival clock's
   * epoch nor the timestamp's wrap matters.
   */
  private updateJitter(timestamp: number, arrivalMs: number): void {
    const prev = this.prev;
    this.prev = { arrivalMs, timestamp };
    if (!prev) return;
    const d = ((arrivalMs - prev.arrivalMs) * this.clockRate) / 1000 - rtpTimestampDiff(timestamp, prev.timestamp);
    this.jitterUnits += (Math.abs(d) - this.jitterUnits) / 16;
  }

  /** Remember a sender report of this source for LSR/DLSR (the RR lets the sender measure the round trip). */
  onSenderReport(sr: { ntpSeconds: number; ntpFraction: number }, arrivalMs: number): void {
    this.lastSr = ntpMiddle32(sr.ntpSeconds, sr.ntpFraction);
    this.lastSrArrivalMs = arrivalMs;
  }

  /**
   * The report block to send now (RFC 3550 A.3); starts the next "since the last report" interval. Before
   * any packet every count is 0.
   */
  reportBlock(nowMs: number): RtcpReportBlock {
    let fractionLost = 0;
    let cumulativeLost = 0;
    if (this.started) {
      const expected = this.extendedMax - this.baseSeq + 1;
      cumulativeLost = Math.max(-0x800000, Math.min(0x7fffff, expected - this.received));
      const expectedInterval = expected - this.expectedPrior;
      const receivedInterval = this.received - this.receivedPrior;
      const lostInterval = expectedInterval - receivedInterval;
      this.expectedPrior = expected;
      this.receivedPrior = this.received;
      if (expectedInterval > 0 && lostInterval > 0) fractionLost = Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    }
    const delaySinceLastSr = this.lastSrArrivalMs === undefined ? 0 : Math.min(0xffffffff, Math.max(0, Math.round(((nowMs - this.lastSrArrivalMs) * 65536) / 1000)));
    return {
      ssrc: this.ssrc,
      fractionLost,
      cumulativeLost,
      highestSeq: this.started ? this.extendedMax >>> 0 : 0,
      jitter: Math.min(0xffffffff, Math.floor(this.jitterUnits)),
      lastSr: this.lastSr,
      delaySinceLastSr,
    };
  }
}

/**
 * Round trip time in ms from a report block about our stream (RFC 3550 6.4.1): A - LSR - DLSR, with A the
 * block's arrival time as compact NTP (1/65536 s, middle 32 bits). Undefined when the block carries no LSR
 * or the result is negative (clocks of the two ends are not involved, only ours, so negative means a bogus
 * block).
 */
export function rttFromReportBlock(block: Pick<RtcpReportBlock, 'lastSr' | 'delaySinceLastSr'>, arrivalMs: number): number | undefined {
  if (block.lastSr === 0) return undefined;
  const ntp = unixMsToNtp(arrivalMs);
  const rtt = (ntpMiddle32(ntp.seconds, ntp.fraction) - block.lastSr - block.delaySinceLastSr) | 0;
  return rtt < 0 ? undefined : (rtt * 1000) / 65536;
}

/** Sender-side counts of one outgoing source, for its sender reports and the round trip time. */
export class RtpSenderStats {
  packetCount = 0;
  octetCount = 0;
  /** the last round trip time measured by `rttFromReportBlock`, in ms */
  lastRttMs: number | undefined;
  /** LSR values of the last sender reports we made, to ignore blocks about other or stale reports */
  private readonly sentLsr: number[] = [];

  /** Count one sent packet; `payloadBytes` excludes the RTP header and padding (RFC 3550 6.4.1). */
  onPacket(payloadBytes: number): void {
    this.packetCount++;
    this.octetCount += payloadBytes;
  }

  /**
   * The fields of a sender report for now (pass to `buildSenderReport`): NTP time of `nowMs`, the RTP
   * timestamp the track's clock shows at that instant, and the counts so far.
   */
  senderReport(ssrc: number, nowMs: number, rtpTimestampAtNow: number): RtcpSenderReportFields {
    const ntp = unixMsToNtp(nowMs);
    this.sentLsr.push(ntpMiddle32(ntp.seconds, ntp.fraction));
    if (this.sentLsr.length > 16) this.sentLsr.shift();
    return {
      ssrc,
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp: rtpTimestampAtNow >>> 0,
      packetCount: this.packetCount >>> 0,
      octetCount: this.octetCount >>> 0,
      reports: [],
    };
  }

  /**
   * Round trip time from a receiver's report block about this source, if its LSR names one of our last 16
   * sender reports; also stored in `lastRttMs`.
   */
  rttFromReportBlock(block: Pick<RtcpReportBlock, 'lastSr' | 'delaySinceLastSr'>, arrivalMs: number): number | undefined {
    if (!this.sentLsr.includes(block.lastSr)) return undefined;
    const rtt = rttFromReportBlock(block, arrivalMs);
    if (rtt !== undefined) this.lastRttMs = rtt;
    return rtt;
  }
}
