import { H264NalType } from '../codecs/h264';
import { MediaError } from '../media.errors';
import { NalPacketization, packetizeNals } from './nal-packetizer';
import { NalAccessUnit, NalDepacketizer, NalDepacketizerOptions, NalDepacketizerStats, NalRtpPayload } from './nal-depacketizer';
import { RtpPayload } from './rtp-packet';

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
  return packetizeNals(nals, mtu, o.stapA ?? true, H264_PACKETIZATION);
}

const H264_PACKETIZATION: NalPacketization = { aggregateHeaderSize: 1, isCarriable: isCarriableNal, aggregate: buildStapA, fragment: fragmentFuA };

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

/** An access unit rebuilt by H264Depacketizer. */
export type H264AccessUnit = NalAccessUnit;

/** Limits of H264Depacketizer (see NalDepacketizerOptions: maxNalSize, maxAccessUnitSize, maxNalsPerAccessUnit). */
export type H264DepacketizerOptions = NalDepacketizerOptions;

/** packets, lost, duplicates, late, droppedNals (incomplete FU-A, over a limit), accessUnits. */
export type H264DepacketizerStats = NalDepacketizerStats;

/**
 * Rebuilds access units from H.264 RTP packets (RFC 6184 single NAL, STAP-A, FU-A) given in sequence order
 * (a jitter buffer, if any, sits before it). An access unit ends at the marker bit or when the timestamp
 * changes. Fragments are only joined across strictly consecutive sequence numbers, so a loss drops the
 * NAL unit instead of corrupting it; losses set `keyFrameNeeded` (send a PLI/FIR) until a complete access
 * unit with an IDR comes out. Throws MediaError('BAD_NAL') only for a malformed payload (empty, STAP-A
 * length past the end, FU with S and E, type 0/25/26/27/29/30/31); the state stays usable after it.
 */
export class H264Depacketizer extends NalDepacketizer<H264DepacketizerStats> {
  constructor(o: H264DepacketizerOptions = {}) {
    super({ packets: 0, lost: 0, duplicates: 0, late: 0, droppedNals: 0, accessUnits: 0 }, o);
  }

  protected override parsePayload(payload: Buffer): NalRtpPayload {
    const unit = parseH264RtpPayload(payload);
    return unit.kind === 'fu-a' ? { ...unit, kind: 'fu' } : unit;
  }

  protected override nalHeaderBytes(header: number): Buffer {
    return Buffer.of(header);
  }

  protected override isKeyPicture(nal: Buffer): boolean {
    return (nal[0] & 0x1f) === H264NalType.IDR;
  }
}
