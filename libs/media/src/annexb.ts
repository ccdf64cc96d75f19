import { MediaError } from './media.errors';

const START_CODE_3 = Buffer.from([0, 0, 1]);
const START_CODE_4 = Buffer.from([0, 0, 0, 1]);

/**
 * Split an Annex B byte stream (3- or 4-byte start codes) into NAL units without start codes.
 * The units are subarrays of `buf` (no copy). Bytes before the first start code are dropped,
 * trailing zero bytes of a unit (trailing_zero_8bits / the leading zero of a 4-byte start code)
 * are trimmed, and empty units are skipped.
 */
export function splitAnnexB(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let sc = buf.indexOf(START_CODE_3);
  while (sc >= 0) {
    const start = sc + 3;
    const next = buf.indexOf(START_CODE_3, start);
    let end = next < 0 ? buf.length : next;
    while (end > start && buf[end - 1] === 0) end--;
    if (end > start) out.push(buf.subarray(start, end));
    sc = next;
  }
  return out;
}

/** True when the buffer begins with a 3- or 4-byte start code. */
export function hasStartCode(buf: Buffer): boolean {
  return (
    buf.length >= 3 &&
    buf[0] === 0 &&
    buf[1] === 0 &&
    (buf[2] === 1 || (buf[2] === 0 && buf.length >= 4 && buf[3] === 1))
  );
}

/** NAL units -> Annex B with 4-byte start codes, in one allocation. */
export function joinAnnexB(nals: readonly Buffer[]): Buffer {
  let size = 0;
  for (const n of nals) size += 4 + n.length;
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (const n of nals) {
    START_CODE_4.copy(out, off);
    n.copy(out, off + 4);
    off += 4 + n.length;
  }
  return out;
}

function checkLengthSize(lengthSize: number): void {
  if (lengthSize !== 1 && lengthSize !== 2 && lengthSize !== 3 && lengthSize !== 4) {
    throw new MediaError('BAD_ARGUMENT', `NAL length size ${lengthSize}`);
  }
}

/**
 * Split length-prefixed NAL units (AVCC/HVCC sample format). Units are subarrays (no copy);
 * zero-length units are skipped. A length that runs past the end throws MediaError('BAD_NAL_LENGTH').
 */
export function splitAvcc(buf: Buffer, lengthSize = 4): Buffer[] {
  checkLengthSize(lengthSize);
  const out: Buffer[] = [];
  let off = 0;
  const len = buf.length;
  while (off < len) {
    if (off + lengthSize > len) {
      throw new MediaError('BAD_NAL_LENGTH', `NAL length prefix truncated at ${off}`);
    }
    let n: number;
    switch (lengthSize) {
      case 4:
        n = buf.readUInt32BE(off);
        break;
      case 3:
        n = buf.readUIntBE(off, 3);
        break;
      case 2:
        n = buf.readUInt16BE(off);
        break;
      default:
        n = buf[off];
    }
    off += lengthSize;
    if (n > len - off) {
      throw new MediaError('BAD_NAL_LENGTH', `NAL length ${n} at ${off - lengthSize} runs past the end (${len})`);
    }
    if (n > 0) out.push(buf.subarray(off, off + n));
    off += n;
  }
  return out;
}

/** Total size of `joinAvcc(nals, lengthSize)` without building it. */
export function avccSize(nals: readonly Buffer[], lengthSize = 4): number {
  let size = 0;
  for (const n of nals) size += lengthSize + n.length;
  return size;
}

/**
 * Write length-prefixed NAL units into `out` at `offset`; returns the offset after the last unit.
 * Throws MediaError('UNSUPPORTED') when a unit is too long for the length field.
 */
export function writeAvcc(out: Buffer, offset: number, nals: readonly Buffer[], lengthSize = 4): number {
  checkLengthSize(lengthSize);
  const max = lengthSize === 4 ? 0xffffffff : 2 ** (lengthSize * 8) - 1;
  let off = offset;
  for (const n of nals) {
    if (n.length > max) throw new MediaError('UNSUPPORTED', `NAL of ${n.length} bytes does not fit a ${lengthSize}-byte length`);
    out.writeUIntBE(n.length, off, lengthSize);
    off += lengthSize;
    n.copy(out, off);
    off += n.length;
  }
  return off;
}

/** NAL units -> length-prefixed form, in one allocation. */
export function joinAvcc(nals: readonly Buffer[], lengthSize = 4): Buffer {
  checkLengthSize(lengthSize);
  const out = Buffer.allocUnsafe(avccSize(nals, lengthSize));
  writeAvcc(out, 0, nals, lengthSize);
  return out;
}
