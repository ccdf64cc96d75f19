import { MediaError } from '../media.errors';

/** Fixed RTP header size (RFC 3550 5.1), without CSRCs and extension. */
export const RTP_HEADER_SIZE = 12;
/** "defined by profile" value of an RFC 8285 one-byte header extension block. */
export const RTP_ONE_BYTE_EXTENSION_PROFILE = 0xbede;

/** The raw header extension: profile-defined 16 bits and the data (a multiple of 4 bytes). */
export interface RtpExtension {
  profile: number;
  data: Buffer;
}

export interface RtpPacket {
  marker: boolean;
  /** 0..127 */
  payloadType: number;
  /** 0..65535 */
  sequenceNumber: number;
  /** uint32, in the clock rate of the payload format */
  timestamp: number;
  ssrc: number;
  /** up to 15 contributing sources */
  csrcs: number[];
  extension?: RtpExtension;
  /** Without padding. Parsing returns a subarray of the input (no copy). */
  payload: Buffer;
  /** Padding bytes after the payload, the count byte included; 0 = no padding. */
  paddingSize: number;
}

/** What a payload packetizer yields: the payload and the marker bit, not yet stamped. */
export interface RtpPayload {
  payload: Buffer;
  marker: boolean;
  /** RTP clock units after the frame's timestamp, for the later packets of a frame split in time (G.711, grouped AAC). */
  timestampOffset?: number;
}

/**
 * Parse one RTP packet (RFC 3550 5.1). Payload, CSRCs and extension data are read without copying.
 * Throws MediaError: 'TRUNCATED' when a field (CSRCs, extension, padding) runs past the end,
 * 'UNSUPPORTED' for a version other than 2 or a padding count of 0.
 */
export function parseRtpPacket(buf: Buffer): RtpPacket {
  if (buf.length < RTP_HEADER_SIZE) throw new MediaError('TRUNCATED', `RTP packet of ${buf.length} bytes is shorter than the 12-byte header`);
  const b0 = buf[0];
  const version = b0 >>> 6;
  if (version !== 2) throw new MediaError('UNSUPPORTED', `RTP version ${version}`);
  const csrcCount = b0 & 0x0f;
  let off = RTP_HEADER_SIZE + 4 * csrcCount;
  if (off > buf.length) throw new MediaError('TRUNCATED', `RTP CSRC list (${csrcCount}) runs past the end (${buf.length})`);
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++) csrcs.push(buf.readUInt32BE(RTP_HEADER_SIZE + 4 * i));

  let extension: RtpExtension | undefined;
  if (b0 & 0x10) {
    if (off + 4 > buf.length) throw new MediaError('TRUNCATED', 'RTP extension header runs past the end');
    const profile = buf.readUInt16BE(off);
    const words = buf.readUInt16BE(off + 2);
    off += 4;
    if (off + 4 * words > buf.length) throw new MediaError('TRUNCATED', `RTP extension of ${words} words runs past the end (${buf.length})`);
    extension = { profile, data: buf.subarray(off, off + 4 * words) };
    off += 4 * words;
  }

  let end = buf.length;
  let paddingSize = 0;
  if (b0 & 0x20) {
    if (end === off) throw new MediaError('TRUNCATED', 'RTP padding bit set but no padding count byte');
    paddingSize = buf[end - 1];
    if (paddingSize === 0) throw new MediaError('UNSUPPORTED', 'RTP padding count 0');
    if (paddingSize > end - off) throw new MediaError('TRUNCATED', `RTP padding of ${paddingSize} bytes is longer than the ${end - off} bytes after the header`);
    end -= paddingSize;
  }

  return {
    marker: (buf[1] & 0x80) !== 0,
    payloadType: buf[1] & 0x7f,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    csrcs,
    extension,
    payload: buf.subarray(off, end),
    paddingSize,
  };
}

function checkUint(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new MediaError('BAD_ARGUMENT', `RTP ${name} ${v} outside 0..${max}`);
}

/** Bytes `writeRtpPacket` writes for `p`. */
export function rtpPacketSize(p: RtpPacket): number {
  return RTP_HEADER_SIZE + 4 * p.csrcs.length + (p.extension ? 4 + p.extension.data.length : 0) + p.payload.length + p.paddingSize;
}

/**
 * Write `p` into `out` at `offset`; returns the offset after it. Padding bytes are zero and the last one
 * holds the count. Throws MediaError('BAD_ARGUMENT') for a field out of range.
 */
export function writeRtpPacket(p: RtpPacket, out: Buffer, offset = 0): number {
  checkUint('payload type', p.payloadType, 0x7f);
  checkUint('sequence number', p.sequenceNumber, 0xffff);
  checkUint('timestamp', p.timestamp, 0xffffffff);
  checkUint('SSRC', p.ssrc, 0xffffffff);
  checkUint('padding size', p.paddingSize, 0xff);
  if (p.csrcs.length > 15) throw new MediaError('BAD_ARGUMENT', `${p.csrcs.length} CSRCs (at most 15)`);
  const ext = p.extension;
  if (ext) {
    checkUint('extension profile', ext.profile, 0xffff);
    if (ext.data.length % 4 !== 0 || ext.data.length > 4 * 0xffff) {
      throw new MediaError('BAD_ARGUMENT', `RTP extension data of ${ext.data.length} bytes (a multiple of 4 up to 262140)`);
    }
  }
  const size = rtpPacketSize(p);
  if (offset < 0 || offset + size > out.length) throw new MediaError('BAD_ARGUMENT', `RTP packet of ${size} bytes does not fit at ${offset}`);

  let off = offset;
  out[off++] = 0x80 | (p.paddingSize > 0 ? 0x20 : 0) | (ext ? 0x10 : 0) | p.csrcs.length;
  out[off++] = (p.marker ? 0x80 : 0) | p.payloadType;
  off = out.writeUInt16BE(p.sequenceNumber, off);
  off = out.writeUInt32BE(p.timestamp, off);
  off = out.writeUInt32BE(p.ssrc, off);
  for (const c of p.csrcs) {
    checkUint('CSRC', c, 0xffffffff);
    off = out.writeUInt32BE(c, off);
  }
  if (ext) {
    off = out.writeUInt16BE(ext.profile, off);
    off = out.writeUInt16BE(ext.data.length / 4, off);
    off += ext.data.copy(out, off);
  }
  off += p.payload.copy(out, off);
  if (p.paddingSize > 0) {
    out.fill(0, off, off + p.paddingSize - 1);
    off += p.paddingSize;
    out[off - 1] = p.paddingSize;
  }
  return off;
}

/** Serialize `p` into one new Buffer. */
export function serializeRtpPacket(p: RtpPacket): Buffer {
  const out = Buffer.allocUnsafe(rtpPacketSize(p));
  writeRtpPacket(p, out, 0);
  return out;
}

/** Signed distance a - b between two 16-bit sequence numbers, in -32768..32767 (handles wrap-around). */
export function rtpSeqDiff(a: number, b: number): number {
  return ((((a - b) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
}

/** Milliseconds -> RTP timestamp in `clockRate` Hz, wrapped to 32 bits. */
export function rtpTimestampFromMs(ms: number, clockRate: number): number {
  const t = Math.round((ms * clockRate) / 1000) % 0x100000000;
  return t < 0 ? t + 0x100000000 : t;
}

export interface RtpHeaderExtensionElement {
  /** 1..14 (one-byte form) or 1..255 (two-byte form) */
  id: number;
  data: Buffer;
}

/**
 * Elements of an RFC 8285 header extension block: the one-byte form (profile 0xBEDE) or the two-byte
 * form (profile 0x100X). Other profiles give []. Data are subarrays. An element running past the block
 * throws MediaError('TRUNCATED').
 */
export function readRtpHeaderExtensions(ext: RtpExtension): RtpHeaderExtensionElement[] {
  const oneByte = ext.profile === RTP_ONE_BYTE_EXTENSION_PROFILE;
  if (!oneByte && (ext.profile & 0xfff0) !== 0x1000) return [];
  const d = ext.data;
  const out: RtpHeaderExtensionElement[] = [];
  let off = 0;
  while (off < d.length) {
    let id: number;
    let len: number;
    if (oneByte) {
      id = d[off] >>> 4;
      len = (d[off] & 0x0f) + 1;
      if (id === 0) {
        off++; // padding byte
        continue;
      }
      if (id === 15) break; // reserved: stop processing
      off++;
    } else {
      id = d[off];
      if (id === 0) {
        off++;
        continue;
      }
      if (off + 2 > d.length) throw new MediaError('TRUNCATED', 'RTP two-byte extension element header runs past the block');
      len = d[off + 1];
      off += 2;
    }
    if (off + len > d.length) throw new MediaError('TRUNCATED', `RTP extension element ${id} of ${len} bytes runs past the block`);
    out.push({ id, data: d.subarray(off, off + len) });
    off += len;
  }
  return out;
}

/** Data of element `id` in a one- or two-byte header extension block, if present. */
export function findRtpHeaderExtension(ext: RtpExtension | undefined, id: number): Buffer | undefined {
  if (!ext) return undefined;
  return readRtpHeaderExtensions(ext).find((e) => e.id === id)?.data;
}

/** Build an RFC 8285 one-byte header extension block (ids 1..14, data 1..16 bytes), zero-padded to 4 bytes. */
export function buildOneByteExtension(elements: readonly RtpHeaderExtensionElement[]): RtpExtension {
  let size = 0;
  for (const e of elements) {
    if (!Number.isInteger(e.id) || e.id < 1 || e.id > 14) throw new MediaError('BAD_ARGUMENT', `one-byte extension id ${e.id} outside 1..14`);
    if (e.data.length < 1 || e.data.length > 16) throw new MediaError('BAD_ARGUMENT', `one-byte extension element of ${e.data.length} bytes (1..16)`);
    size += 1 + e.data.length;
  }
  const data = Buffer.alloc(Math.ceil(size / 4) * 4);
  let off = 0;
  for (const e of elements) {
    data[off++] = (e.id << 4) | (e.data.length - 1);
    off += e.data.copy(data, off);
  }
  return { profile: RTP_ONE_BYTE_EXTENSION_PROFILE, data };
}

export interface RtpStamperOptions {
  ssrc: number;
  payloadType: number;
  /** First sequence number; RFC 3550 asks for a random one (the default). */
  sequenceNumber?: number;
}

/** Turns payloads into RTP packets of one stream: numbers them (wrapping at 65535) and stamps SSRC/PT/timestamp. */
export class RtpStamper {
  readonly ssrc: number;
  readonly payloadType: number;
  /** The sequence number the next packet gets. */
  sequenceNumber: number;

  constructor(o: RtpStamperOptions) {
    checkUint('SSRC', o.ssrc, 0xffffffff);
    checkUint('payload type', o.payloadType, 0x7f);
    this.ssrc = o.ssrc;
    this.payloadType = o.payloadType;
    this.sequenceNumber = o.sequenceNumber ?? Math.floor(Math.random() * 0x10000);
    checkUint('sequence number', this.sequenceNumber, 0xffff);
  }

  /** One packet; the timestamp (uint32, already in the clock rate) is shared by all payloads of a frame. */
  packet(p: RtpPayload, timestamp: number): RtpPacket {
    const pkt: RtpPacket = {
      marker: p.marker,
      payloadType: this.payloadType,
      sequenceNumber: this.sequenceNumber,
      timestamp: (timestamp + (p.timestampOffset ?? 0)) >>> 0,
      ssrc: this.ssrc,
      csrcs: [],
      payload: p.payload,
      paddingSize: 0,
    };
    this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
    return pkt;
  }

  /** Serialized packets for the payloads of one frame. */
  stamp(payloads: readonly RtpPayload[], timestamp: number): Buffer[] {
    return payloads.map((p) => serializeRtpPacket(this.packet(p, timestamp)));
  }
}
