import { MediaError } from '../media.errors';

/**
 * ISO BMFF (ISO/IEC 14496-12) box primitives: building boxes from byte pieces and walking the boxes of a
 * buffer. Writers build small boxes with `box`/`fullBox`; readers walk payloads with `childBoxes`.
 */

const TYPE_RE = /^[\x20-\x7e]{4}$/;

function fourcc(type: string): Buffer {
  if (!TYPE_RE.test(type)) throw new MediaError('BAD_ARGUMENT', `box type ${JSON.stringify(type)}`);
  return Buffer.from(type, 'latin1');
}

/** A box: 32-bit size (64-bit largesize when needed), type, then the pieces. */
export function box(type: string, ...payload: readonly Buffer[]): Buffer {
  let size = 0;
  for (const p of payload) size += p.length;
  return Buffer.concat([boxHeader(type, size), ...payload]);
}

/** A FullBox: box with a version byte and 24-bit flags before the pieces. */
export function fullBox(type: string, version: number, flags: number, ...payload: readonly Buffer[]): Buffer {
  const vf = Buffer.alloc(4);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, vf, ...payload);
}

/** The header of a box of `payloadSize` bytes (8 bytes, or 16 with largesize). */
export function boxHeader(type: string, payloadSize: number): Buffer {
  if (payloadSize + 8 > 0xffffffff) {
    const head = Buffer.alloc(16);
    head.writeUInt32BE(1, 0);
    fourcc(type).copy(head, 4);
    head.writeBigUInt64BE(BigInt(payloadSize + 16), 8);
    return head;
  }
  const head = Buffer.alloc(8);
  head.writeUInt32BE(payloadSize + 8, 0);
  fourcc(type).copy(head, 4);
  return head;
}

/** A big-endian 32-bit field. */
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** Reads an unsigned 64-bit value as a safe integer. */
export function readU64(buf: Buffer, offset: number): number {
  const v = buf.readBigUInt64BE(offset);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new MediaError('UNSUPPORTED', '64-bit value too large');
  return Number(v);
}

/** Reads a signed 64-bit value as a safe integer. */
export function readI64(buf: Buffer, offset: number): number {
  const v = buf.readBigInt64BE(offset);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new MediaError('UNSUPPORTED', '64-bit value too large');
  }
  return Number(v);
}

export interface BoxHeader {
  type: string;
  /** header length: 8, or 16 with largesize */
  headerSize: number;
  /** whole box size; for size 0 ("to the end") the caller's end minus the box start */
  size: number;
}

/**
 * Parses a box header at `offset` in `buf`; `end` is where the enclosing space ends (for size 0).
 * Returns undefined when fewer header bytes than needed are available (a torn tail).
 * Throws MediaError('BAD_RECORD') for a size smaller than the header.
 */
export function parseBoxHeader(buf: Buffer, offset: number, end: number): BoxHeader | undefined {
  if (buf.length - offset < 8) return undefined;
  let size = buf.readUInt32BE(offset);
  const type = buf.toString('latin1', offset + 4, offset + 8);
  let headerSize = 8;
  if (size === 1) {
    if (buf.length - offset < 16) return undefined;
    size = readU64(buf, offset + 8);
    headerSize = 16;
  } else if (size === 0) {
    size = end - offset;
  }
  if (size < headerSize) throw new MediaError('BAD_RECORD', `box '${printable(type)}' of size ${size}`);
  return { type, headerSize, size };
}

export interface ChildBox {
  type: string;
  /** offset of the box in the parent buffer */
  start: number;
  /** offset of the payload */
  payload: number;
  /** offset after the box */
  end: number;
}

/** The boxes in `buf[start, end)`; a box running past `end` throws MediaError('TRUNCATED'). */
export function childBoxes(buf: Buffer, start = 0, end = buf.length): ChildBox[] {
  const out: ChildBox[] = [];
  let off = start;
  while (off < end) {
    const h = parseBoxHeader(buf.subarray(0, end), off, end);
    if (!h) throw new MediaError('TRUNCATED', `box header at ${off} cut`);
    if (off + h.size > end) throw new MediaError('TRUNCATED', `box '${printable(h.type)}' at ${off} runs past its parent`);
    out.push({ type: h.type, start: off, payload: off + h.headerSize, end: off + h.size });
    off += h.size;
  }
  return out;
}

/** The first child of that type; throws MediaError('BAD_RECORD') when missing. */
export function requireBox(buf: Buffer, type: string, start = 0, end = buf.length): ChildBox {
  const b = childBoxes(buf, start, end).find((c) => c.type === type);
  if (!b) throw new MediaError('BAD_RECORD', `no '${type}' box`);
  return b;
}

function printable(type: string): string {
  return type.replace(/[^\x20-\x7e]/g, '?');
}
