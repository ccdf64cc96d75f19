import { MediaError } from '../media.errors';

/** header_type flags of an Ogg page (RFC 3533 6). */
export const OGG_CONTINUED = 0x01;
export const OGG_BOS = 0x02;
export const OGG_EOS = 0x04;

const HEADER = 27;
const CAPTURE = 0x4f676753; // 'OggS'
const MAX_SEGMENTS = 255;
const ZERO_CRC = new Uint8Array(4);

const TABLE = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 24;
  for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
  TABLE[i] = c >>> 0;
}

/**
 * The Ogg page checksum: CRC-32, polynomial 0x04C11DB7, no reflection, initial value 0, over the page with its
 * CRC field zeroed. `crc` continues a checksum over earlier bytes.
 */
export function oggCrc(data: Uint8Array, start = 0, end = data.length, crc = 0): number {
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ TABLE[((crc >>> 24) ^ data[i]) & 0xff]) >>> 0;
  return crc >>> 0;
}

/** One page as read: the packets that end on it (a packet begun on earlier pages is joined), and its granule position. */
export interface OggPage {
  serial: number;
  sequence: number;
  /** Granule position of the last packet that ends on this page; -1 when none does. */
  granule: number;
  flags: number;
  packets: Buffer[];
}

export interface OggPageInput {
  serial: number;
  sequence: number;
  granule: number;
  /** OGG_BOS / OGG_EOS (every packet given ends on this page, so never OGG_CONTINUED). */
  flags?: number;
  packets: readonly Buffer[];
}

/** Builds one page holding whole packets (at most 255 lacing values, i.e. about 64 KB). Throws MediaError('UNSUPPORTED'). */
export function buildOggPage(page: OggPageInput): Buffer {
  const lacing: number[] = [];
  for (const packet of page.packets) {
    for (let left = packet.length; ; left -= 255) {
      lacing.push(Math.min(left, 255));
      if (left < 255) break;
    }
  }
  if (lacing.length > MAX_SEGMENTS) throw new MediaError('UNSUPPORTED', `packets of ${lacing.length} lacing values on one Ogg page`);
  const bodySize = page.packets.reduce((n, p) => n + p.length, 0);
  const out = Buffer.alloc(HEADER + lacing.length + bodySize);
  out.writeUInt32BE(CAPTURE, 0);
  out[4] = 0;
  out[5] = (page.flags ?? 0) & (OGG_BOS | OGG_EOS);
  out.writeBigInt64LE(BigInt(page.granule), 6);
  out.writeUInt32LE(page.serial >>> 0, 14);
  out.writeUInt32LE(page.sequence >>> 0, 18);
  out[26] = lacing.length;
  for (let i = 0; i < lacing.length; i++) out[HEADER + i] = lacing[i];
  let at = HEADER + lacing.length;
  for (const packet of page.packets) at += packet.copy(out, at);
  out.writeUInt32LE(oggCrc(out), 22);
  return out;
}

/** Writes one logical stream page by page: numbers the pages, marks the first BOS. */
export class OggWriter {
  private sequence = 0;

  constructor(readonly serial: number) {}

  page(packets: readonly Buffer[], granule: number, eos = false): Buffer {
    const flags = (this.sequence === 0 ? OGG_BOS : 0) | (eos ? OGG_EOS : 0);
    return buildOggPage({ serial: this.serial, sequence: this.sequence++, granule, flags, packets });
  }
}

export interface OggReaderOptions {
  /** Longest packet accepted (joined across pages). */
  maxPacketSize?: number;
}

/**
 * Reads Ogg pages from a byte stream cut anywhere: push chunks, get the pages completed so far with their
 * packets. Checks the capture pattern, version and CRC; throws MediaError('BAD_OGG') on a bad page, after
 * which the reader is not usable. Holds at most one page (< 64 KB) plus one packet being joined.
 */
export class OggReader {
  private buffered: Buffer = Buffer.alloc(0);
  private partial: Buffer[] = [];
  private partialSize = 0;
  private partialSerial = -1;
  private readonly maxPacketSize: number;

  constructor(options: OggReaderOptions = {}) {
    this.maxPacketSize = options.maxPacketSize ?? 1024 * 1024;
  }

  push(chunk: Buffer): OggPage[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const pages: OggPage[] = [];
    let at = 0;
    const buf = this.buffered;
    while (buf.length - at >= HEADER) {
      if (buf.readUInt32BE(at) !== CAPTURE) throw new MediaError('BAD_OGG', 'no Ogg capture pattern');
      if (buf[at + 4] !== 0) throw new MediaError('BAD_OGG', `Ogg version ${buf[at + 4]}`);
      const segments = buf[at + 26];
      if (buf.length - at < HEADER + segments) break;
      let bodySize = 0;
      for (let i = 0; i < segments; i++) bodySize += buf[at + HEADER + i];
      const size = HEADER + segments + bodySize;
      if (buf.length - at < size) break;
      const page = buf.subarray(at, at + size);
      const stored = page.readUInt32LE(22);
      const crc = oggCrc(page, 26, size, oggCrc(ZERO_CRC, 0, 4, oggCrc(page, 0, 22)));
      if (crc !== stored) throw new MediaError('BAD_OGG', 'Ogg page CRC mismatch');
      pages.push(this.readPage(page, segments));
      at += size;
    }
    // Keep only the unread tail (a copy, so the chunk it came from can be freed).
    this.buffered = at === buf.length ? Buffer.alloc(0) : at === 0 ? buf : Buffer.from(buf.subarray(at));
    return pages;
  }

  private readPage(page: Buffer, segments: number): OggPage {
    const flags = page[5];
    const serial = page.readUInt32LE(14);
    const sequence = page.readUInt32LE(18);
    const granuleField = Number(page.readBigInt64LE(6));
    // A continuation of a packet we do not have (or of another stream) is dropped, as is a packet left unfinished.
    if (!(flags & OGG_CONTINUED) || serial !== this.partialSerial) this.resetPartial();
    let skipping = (flags & OGG_CONTINUED) !== 0 && this.partialSize === 0 && this.partial.length === 0;
    const packets: Buffer[] = [];
    let at = HEADER + segments;
    for (let i = 0; i < segments; i++) {
      const lace = page[HEADER + i];
      const piece = page.subarray(at, at + lace);
      at += lace;
      if (!skipping) {
        this.partialSize += lace;
        if (this.partialSize > this.maxPacketSize) throw new MediaError('BAD_OGG', `Ogg packet over ${this.maxPacketSize} bytes`);
        this.partial.push(piece);
      }
      if (lace < 255) {
        if (!skipping) packets.push(Buffer.concat(this.partial));
        skipping = false;
        this.resetPartial();
      }
    }
    this.partialSerial = this.partial.length ? serial : -1;
    return { serial, sequence, granule: packets.length ? granuleField : -1, flags, packets };
  }

  private resetPartial(): void {
    this.partial = [];
    this.partialSize = 0;
  }
}
