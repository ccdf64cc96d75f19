import { Av1ObuType, isAv1KeyFrame, readLeb128, splitObus, writeLeb128 } from '../codecs/av1';
import { MediaError } from '../media.errors';
import { RtpFinishedFrame, RtpFrameDepacketizer, RtpFrameDepacketizerOptions, RtpFramePart } from './frame-depacketizer';
import { DEFAULT_RTP_MTU } from './h264-rtp';
import type { RtpPayload } from './rtp-packet';

/** One AV1 RTP payload (AV1 RTP spec 4.4-4.5): the aggregation header and the OBU elements. */
export interface Av1RtpPayload {
  /** Z: the first element continues an OBU from the previous packet */
  continuation: boolean;
  /** Y: the last element continues in the next packet */
  continues: boolean;
  /** W: element count (0 = every element has a length field) */
  w: number;
  /** N: first packet of a coded video sequence */
  newSequence: boolean;
  /** OBUs or OBU fragments (subarrays of the payload) */
  elements: Buffer[];
}

/**
 * Parse an AV1 RTP payload. Throws MediaError('BAD_RTP_PAYLOAD') for a payload without elements, an element
 * length past the end, fewer elements than W says, or N together with Z.
 */
export function parseAv1RtpPayload(p: Buffer): Av1RtpPayload {
  if (p.length < 2) throw new MediaError('BAD_RTP_PAYLOAD', `AV1 RTP payload of ${p.length} bytes`);
  const h = p[0];
  const out: Av1RtpPayload = { continuation: (h & 0x80) !== 0, continues: (h & 0x40) !== 0, w: (h >>> 4) & 3, newSequence: (h & 0x08) !== 0, elements: [] };
  if (out.newSequence && out.continuation) throw new MediaError('BAD_RTP_PAYLOAD', 'AV1 aggregation header with N and Z');
  let off = 1;
  while (off < p.length) {
    if (out.w !== 0 && out.elements.length === out.w - 1) {
      out.elements.push(p.subarray(off));
      off = p.length;
      break;
    }
    let size: number;
    let used: number;
    try {
      [size, used] = readLeb128(p, off);
    } catch {
      throw new MediaError('BAD_RTP_PAYLOAD', `AV1 OBU element length at ${off} is not a valid leb128`);
    }
    off += used;
    if (off + size > p.length) throw new MediaError('BAD_RTP_PAYLOAD', `AV1 OBU element of ${size} bytes at ${off} runs past the payload (${p.length})`);
    out.elements.push(p.subarray(off, off + size));
    off += size;
  }
  if (out.elements.length === 0 || (out.w !== 0 && out.elements.length !== out.w)) {
    throw new MediaError('BAD_RTP_PAYLOAD', `AV1 RTP payload with ${out.elements.length} OBU elements (W=${out.w})`);
  }
  return out;
}

/**
 * An OBU as the canonical low-overhead form carries it: with obu_has_size_field set (one is added when the
 * element has none; a size field that overstates the element makes it unreadable: undefined). Temporal
 * delimiters and tile lists come back empty (dropped, as the payload format says).
 */
function lowOverheadObu(obu: Buffer): Buffer | undefined {
  if (obu.length === 0) return Buffer.alloc(0);
  const h = obu[0];
  if (h & 0x80) return undefined; // obu_forbidden_bit
  const type = (h >>> 3) & 0x0f;
  if (type === Av1ObuType.TEMPORAL_DELIMITER || type === Av1ObuType.TILE_LIST) return Buffer.alloc(0);
  const headerSize = h & 0x04 ? 2 : 1;
  if (obu.length < headerSize) return undefined;
  if (h & 0x02) {
    let size: number;
    let used: number;
    try {
      [size, used] = readLeb128(obu, headerSize);
    } catch {
      return undefined;
    }
    const end = headerSize + used + size;
    return end <= obu.length ? obu.subarray(0, end) : undefined;
  }
  const size = writeLeb128(obu.length - headerSize);
  const out = Buffer.allocUnsafe(obu.length + size.length);
  obu.copy(out, 0, 0, headerSize);
  out[0] |= 0x02;
  size.copy(out, headerSize);
  obu.copy(out, headerSize + size.length, headerSize);
  return out;
}

export interface Av1PacketizerOptions {
  /** Largest RTP payload in bytes (default 1200). At least 3. */
  mtu?: number;
  /** N on the first packet (default: the temporal unit holds a sequence header and a key frame). */
  newCodedVideoSequence?: boolean;
}

/** Bytes [from, to) of OBU number `obu` (header without size field, then payload). */
interface Av1Element {
  obu: number;
  from: number;
  to: number;
}

interface Av1Packet {
  elements: Av1Element[];
  z: boolean;
  y: boolean;
}

/** Payload size of elements of these sizes: W = their count when at most 3 (the last then without a length). */
function av1PacketSize(sizes: readonly number[]): number {
  const w = sizes.length <= 3;
  let size = 1;
  sizes.forEach((n, k) => {
    size += n + (w && k === sizes.length - 1 ? 0 : leb128Size(n));
  });
  return size;
}

function leb128Size(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/**
 * One AV1 temporal unit (low-overhead OBUs, as the engine carries them) as RTP payloads of at most `mtu`
 * bytes: temporal delimiters, tile lists and padding dropped, obu_size fields removed, OBUs aggregated
 * (W = the element count when at most 3, the last element then without a length) and fragmented across
 * packets (Y/Z), OBUs of different layers (extension headers) never in one packet, N on the first packet of
 * a coded video sequence, the marker on the last. Throws MediaError('BAD_OBU') for malformed OBU framing.
 */
export function packetizeAv1(temporalUnit: Buffer, o: Av1PacketizerOptions = {}): RtpPayload[] {
  const mtu = o.mtu ?? DEFAULT_RTP_MTU;
  if (!Number.isInteger(mtu) || mtu < 3) throw new MediaError('BAD_ARGUMENT', `RTP MTU ${mtu} (at least 3)`);
  const skipped: number[] = [Av1ObuType.TEMPORAL_DELIMITER, Av1ObuType.TILE_LIST, Av1ObuType.PADDING];
  const obus = splitObus(temporalUnit).filter((x) => !skipped.includes(x.type));
  if (obus.length === 0) return [];
  // each OBU as its header (size flag cleared) and payload
  const heads = obus.map((x) => {
    const head = Buffer.from(x.obu.subarray(0, x.obu[0] & 0x04 ? 2 : 1));
    head[0] &= ~0x02;
    return head;
  });
  const lengths = obus.map((x, i) => heads[i].length + x.payload.length);
  const layers = obus.map((x) => (x.obu[0] & 0x04 ? x.temporalId * 8 + x.spatialId : -1));

  const packets: Av1Packet[] = [];
  let current: Av1Packet = { elements: [], z: false, y: false };
  let layer = -1;
  const flush = (y: boolean) => {
    current.y = y;
    packets.push(current);
    current = { elements: [], z: y, y: false };
    layer = -1;
  };
  const sizes = (extra: number) => [...current.elements.map((e) => e.to - e.from), extra];
  obus.forEach((_x, i) => {
    // OBUs of different layers never share a packet
    if (layers[i] >= 0 && layer >= 0 && layer !== layers[i] && current.elements.length > 0) flush(false);
    const length = lengths[i];
    for (let off = 0; off < length; ) {
      if (layers[i] >= 0) layer = layers[i];
      const rest = length - off;
      if (av1PacketSize(sizes(rest)) <= mtu) {
        current.elements.push({ obu: i, from: off, to: length });
        off = length;
      } else if (current.elements.length > 0 && av1PacketSize([rest]) <= mtu) {
        flush(false); // fits a packet of its own: no fragment needed
      } else {
        let n = mtu - av1PacketSize(sizes(0));
        while (n > 0 && av1PacketSize(sizes(n)) > mtu) n--;
        if (n <= 0) {
          flush(false);
          continue;
        }
        current.elements.push({ obu: i, from: off, to: off + n });
        off += n;
        flush(true);
      }
    }
  });
  if (current.elements.length) packets.push(current);

  const newSequence = o.newCodedVideoSequence ?? (obus.some((x) => x.type === Av1ObuType.SEQUENCE_HEADER) && isAv1KeyFrame(temporalUnit));
  return packets.map((pkt, index) => {
    const count = pkt.elements.length;
    const w = count <= 3 ? count : 0;
    const p = Buffer.allocUnsafe(av1PacketSize(pkt.elements.map((e) => e.to - e.from)));
    p[0] = (pkt.z ? 0x80 : 0) | (pkt.y ? 0x40 : 0) | (w << 4) | (index === 0 && newSequence ? 0x08 : 0);
    let at = 1;
    pkt.elements.forEach((e, k) => {
      if (!(w !== 0 && k === count - 1)) at += writeLeb128(e.to - e.from).copy(p, at);
      at = copyObuRange(heads[e.obu], obus[e.obu].payload, e.from, e.to, p, at);
    });
    return { payload: p, marker: index === packets.length - 1 };
  });
}

/** Copies bytes [from, to) of an OBU given as its header and payload. */
function copyObuRange(head: Buffer, payload: Buffer, from: number, to: number, out: Buffer, at: number): number {
  if (from < head.length) at += head.copy(out, at, from, Math.min(to, head.length));
  if (to > head.length) at += payload.copy(out, at, Math.max(0, from - head.length), to - head.length);
  return at;
}

interface Av1Part extends RtpFramePart {
  payload: Av1RtpPayload;
}

interface Av1OpenUnit {
  newSequence: boolean;
  obus: Buffer[];
  /** pieces of an OBU continued in the next packet */
  fragment: Buffer[] | undefined;
}

/**
 * Rebuilds AV1 temporal units from RTP packets given in sequence order (AV1 RTP spec): OBU elements are
 * joined across packets (Y/Z) and a temporal unit is the OBUs of one timestamp (to the marker bit or the
 * next timestamp), given out as a low-overhead bitstream (every OBU with obu_size, temporal delimiters and
 * tile lists dropped). A temporal unit is a key frame when its first frame is a key frame and it starts a
 * coded video sequence (N) or carries a sequence header. Output starts at a key frame and, after a loss,
 * resumes at the next one (see RtpFrameDepacketizer). Throws MediaError('BAD_RTP_PAYLOAD') only for a
 * malformed payload; the state stays usable after it.
 */
export class Av1Depacketizer extends RtpFrameDepacketizer<Av1Part, Av1OpenUnit> {
  constructor(o: RtpFrameDepacketizerOptions = {}) {
    super(o);
  }

  protected override parse(payload: Buffer): Av1Part {
    const p = parseAv1RtpPayload(payload);
    return { start: !p.continuation, size: payload.length, payload: p };
  }

  protected override startsNewFrame(): boolean {
    return false;
  }

  protected override begin(part: Av1Part): Av1OpenUnit {
    return { newSequence: part.payload.newSequence, obus: [], fragment: undefined };
  }

  protected override add(unit: Av1OpenUnit, part: Av1Part): boolean {
    const { elements, continuation, continues } = part.payload;
    // a fragment continues only into the next packet's first element
    if (continuation !== (unit.fragment !== undefined)) return false;
    for (let i = 0; i < elements.length; i++) {
      const open = i === elements.length - 1 && continues;
      let obu = elements[i];
      if (i === 0 && unit.fragment) {
        unit.fragment.push(obu);
        if (open) continue;
        obu = Buffer.concat(unit.fragment);
        unit.fragment = undefined;
      } else if (open) {
        unit.fragment = [obu];
        continue;
      }
      const normal = lowOverheadObu(obu);
      if (!normal) return false;
      if (normal.length > 0) unit.obus.push(normal);
    }
    return true;
  }

  protected override finish(unit: Av1OpenUnit): RtpFinishedFrame | undefined {
    if (unit.fragment) return undefined;
    const data = unit.obus.length === 1 ? unit.obus[0] : Buffer.concat(unit.obus);
    const sequenceHeader = unit.obus.some((x) => ((x[0] >>> 3) & 0x0f) === Av1ObuType.SEQUENCE_HEADER);
    let keyFrame = false;
    if (unit.newSequence || sequenceHeader) {
      try {
        keyFrame = isAv1KeyFrame(data);
      } catch (e) {
        if (!(e instanceof MediaError)) throw e;
      }
    }
    return { data, keyFrame };
  }
}
