import { H265NalType } from '../codecs/h265';
import { MediaError } from '../media.errors';
import { NalPacketization, packetizeNals } from './nal-packetizer';
import { DEFAULT_RTP_MTU } from './h264-rtp';
import { NalAccessUnit, NalDepacketizer, NalDepacketizerOptions, NalDepacketizerStats, NalRtpPayload } from './nal-depacketizer';
import { RtpPayload } from './rtp-packet';

/** RTP clock rate of H.265 (RFC 7798 7.1). */
export const H265_RTP_CLOCK_RATE = 90000;

/** RFC 7798 4.4 payload structure types (the Type field of the 2-byte payload header). */
export const H265RtpType = {
  /** Aggregation Packet (4.4.2) */
  AP: 48,
  /** Fragmentation Unit (4.4.3) */
  FU: 49,
  /** PAyload Content Information (4.4.4) */
  PACI: 50,
} as const;

export interface H265PacketizerOptions {
  /** Largest RTP payload in bytes (default 1200). At least 4 (FU header + 1 byte). */
  mtu?: number;
  /** Aggregate runs of small NAL units into Aggregation Packets (default true). */
  aggregate?: boolean;
}

/** Type field of a 2-byte H.265 NAL unit / payload header. */
function typeOf(header0: number): number {
  return (header0 >>> 1) & 0x3f;
}

/** nuh_layer_id (6 bits across the two header bytes). */
function layerIdOf(b0: number, b1: number): number {
  return ((b0 & 1) << 5) | (b1 >>> 3);
}

/** A NAL unit we can send: a whole 2-byte header and a type that is not an RTP structure (48..63). */
function isCarriableNal(nal: Buffer): boolean {
  return nal.length >= 2 && typeOf(nal[0]) < H265RtpType.AP;
}

/**
 * RFC 7798 packetization of one access unit (NAL units without start codes, sprop-max-don-diff=0 so no
 * DONL fields) into RTP payloads of at most `mtu` bytes: single NAL unit packets, Aggregation Packets for
 * runs of small units (VPS+SPS+PPS+SEI before an IRAP), Fragmentation Units for units larger than the MTU.
 * The marker is set on the last payload only (4.1). Empty units, units shorter than the 2-byte header and
 * types 48..63 (which would be misread as RTP structures) are skipped. Single-unit payloads are the input
 * Buffers themselves (no copy).
 */
export function packetizeH265(nals: readonly Buffer[], o: H265PacketizerOptions = {}): RtpPayload[] {
  const mtu = o.mtu ?? DEFAULT_RTP_MTU;
  if (!Number.isInteger(mtu) || mtu < 4) throw new MediaError('BAD_ARGUMENT', `RTP MTU ${mtu} (at least 4)`);
  return packetizeNals(nals, mtu, o.aggregate ?? true, H265_PACKETIZATION);
}

const H265_PACKETIZATION: NalPacketization = { aggregateHeaderSize: 2, isCarriable: isCarriableNal, aggregate: buildAggregationPacket, fragment: fragment };

/** 4.4.2: F is the OR of the units' F bits, LayerId and TID the lowest of the units'. */
function buildAggregationPacket(nals: readonly Buffer[], size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let f = 0;
  let layerId = 63;
  let tid = 7;
  let off = 2;
  for (const n of nals) {
    f |= n[0] & 0x80;
    layerId = Math.min(layerId, layerIdOf(n[0], n[1]));
    tid = Math.min(tid, n[1] & 7);
    off = out.writeUInt16BE(n.length, off);
    off += n.copy(out, off);
  }
  out[0] = f | (H265RtpType.AP << 1) | (layerId >>> 5);
  out[1] = ((layerId & 0x1f) << 3) | tid;
  return out;
}

/** 4.4.3: payload header = the NAL header with Type 49, then S|E|FuType, then a piece of the NAL payload. */
function fragment(nal: Buffer, mtu: number, out: Buffer[]): void {
  const header0 = (nal[0] & 0x81) | (H265RtpType.FU << 1);
  const type = typeOf(nal[0]);
  const body = nal.length - 2;
  // equal-sized fragments instead of a tiny last one
  const count = Math.ceil(body / (mtu - 3));
  const chunk = Math.ceil(body / count);
  for (let off = 2; off < nal.length; off += chunk) {
    const end = Math.min(off + chunk, nal.length);
    const p = Buffer.allocUnsafe(3 + end - off);
    p[0] = header0;
    p[1] = nal[1];
    p[2] = (off === 2 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
    nal.copy(p, 3, off, end);
    out.push(p);
  }
}

/** One Fragmentation Unit; `header` is the 16-bit NAL unit header it rebuilds (F, FuType, LayerId, TID). */
export interface H265Fu {
  kind: 'fu';
  start: boolean;
  end: boolean;
  header: number;
  data: Buffer;
}

/**
 * What one RTP payload carries: whole NAL units (single NAL unit packet or AP), one FU fragment, or a
 * PACI packet (4.4.4), which this implementation does not read.
 */
export type H265RtpPayloadUnit = { kind: 'nals'; nals: Buffer[] } | H265Fu | { kind: 'paci' };

/**
 * Parse one RFC 7798 payload without DONL fields (sprop-max-don-diff=0). NAL units are subarrays. Throws
 * MediaError('BAD_NAL') for a payload shorter than its header, an AP unit past the end or shorter than a
 * NAL header, an empty AP, an FU without data, with both S and E or carrying type 48..63, and the types
 * 51..63 that RFC 7798 leaves undefined.
 */
export function parseH265RtpPayload(p: Buffer): H265RtpPayloadUnit {
  if (p.length < 2) throw new MediaError('BAD_NAL', `H.265 RTP payload of ${p.length} bytes (the header alone is 2)`);
  const type = typeOf(p[0]);
  if (type < H265RtpType.AP) return { kind: 'nals', nals: [p] };
  if (type === H265RtpType.AP) {
    const nals: Buffer[] = [];
    for (let off = 2; off < p.length; ) {
      if (off + 2 > p.length) throw new MediaError('BAD_NAL', 'AP unit size runs past the payload');
      const n = p.readUInt16BE(off);
      off += 2;
      if (n < 2 || off + n > p.length) throw new MediaError('BAD_NAL', `AP unit of ${n} bytes at ${off - 2} does not fit the payload (${p.length})`);
      const nal = p.subarray(off, off + n);
      if (typeOf(nal[0]) >= H265RtpType.AP) throw new MediaError('BAD_NAL', `AP carrying type ${typeOf(nal[0])}`);
      nals.push(nal);
      off += n;
    }
    if (nals.length === 0) throw new MediaError('BAD_NAL', 'empty AP');
    return { kind: 'nals', nals };
  }
  if (type === H265RtpType.FU) {
    if (p.length < 4) throw new MediaError('BAD_NAL', `FU of ${p.length} bytes`);
    const fh = p[2];
    const start = (fh & 0x80) !== 0;
    const end = (fh & 0x40) !== 0;
    const nalType = fh & 0x3f;
    if (start && end) throw new MediaError('BAD_NAL', 'FU with both start and end bits');
    if (nalType >= H265RtpType.AP) throw new MediaError('BAD_NAL', `FU carrying type ${nalType}`);
    const header = (((p[0] & 0x81) | (nalType << 1)) << 8) | p[1];
    return { kind: 'fu', start, end, header, data: p.subarray(3) };
  }
  if (type === H265RtpType.PACI) return { kind: 'paci' };
  throw new MediaError('BAD_NAL', `H.265 RTP payload type ${type} is undefined`);
}

/** An access unit rebuilt by H265Depacketizer. */
export type H265AccessUnit = NalAccessUnit;

/** Limits of H265Depacketizer (see NalDepacketizerOptions: maxNalSize, maxAccessUnitSize, maxNalsPerAccessUnit). */
export type H265DepacketizerOptions = NalDepacketizerOptions;

/** packets, lost, duplicates, late, droppedNals (incomplete FU, over a limit), accessUnits, and unsupported. */
export interface H265DepacketizerStats extends NalDepacketizerStats {
  /** PACI packets, which are not read: dropped, and their access unit marked incomplete */
  unsupported: number;
}

/**
 * Rebuilds access units from H.265 RTP packets (RFC 7798 single NAL unit packets, APs, FUs; no DONL) given
 * in sequence order (a jitter buffer, if any, sits before it). An access unit ends at the marker bit or
 * when the timestamp changes. Fragments are only joined across strictly consecutive sequence numbers, so a
 * loss drops the NAL unit instead of corrupting it; losses set `keyFrameNeeded` (send a PLI/FIR) until a
 * complete access unit with an IRAP picture (types 16..21) comes out. Throws MediaError('BAD_NAL') only for
 * a malformed payload (see parseH265RtpPayload); the state stays usable after it. PACI packets are dropped
 * and counted in `stats.unsupported`.
 */
export class H265Depacketizer extends NalDepacketizer<H265DepacketizerStats> {
  constructor(o: H265DepacketizerOptions = {}) {
    super({ packets: 0, lost: 0, duplicates: 0, late: 0, droppedNals: 0, unsupported: 0, accessUnits: 0 }, o);
  }

  protected override parsePayload(payload: Buffer): NalRtpPayload {
    const unit = parseH265RtpPayload(payload);
    return unit.kind === 'paci' ? { kind: 'unsupported' } : unit;
  }

  protected override nalHeaderBytes(header: number): Buffer {
    const bytes = Buffer.allocUnsafe(2);
    bytes.writeUInt16BE(header, 0);
    return bytes;
  }

  /** IRAP pictures: BLA, IDR and CRA (types 16..21). */
  protected override isKeyPicture(nal: Buffer): boolean {
    const t = typeOf(nal[0]);
    return t >= H265NalType.BLA_W_LP && t <= H265NalType.CRA_NUT;
  }

  protected override countUnsupported(): void {
    this.stats.unsupported++;
  }
}
