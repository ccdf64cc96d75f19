import { MediaError, MediaErrorCode } from './media.errors';

/**
 * MSB-first bit reader over a byte buffer (H.264/H.265 RBSP, AAC configs, AV1/VP9 headers).
 * Every read past the end throws MediaError (code `TRUNCATED` unless another is given).
 */
export class BitReader {
  private pos: number;
  private readonly end: number;

  /**
   * @param buf the bytes (not copied)
   * @param byteOffset first byte to read
   * @param byteLength bytes available from byteOffset (default: to the end of buf)
   * @param errorCode code thrown on overrun (parsers pass e.g. 'BAD_SPS' to attribute the failure)
   */
  constructor(
    private readonly buf: Uint8Array,
    byteOffset = 0,
    byteLength?: number,
    private readonly errorCode: MediaErrorCode = 'TRUNCATED',
  ) {
    const len = byteLength ?? buf.length - byteOffset;
    if (byteOffset < 0 || len < 0 || byteOffset + len > buf.length) {
      throw new MediaError('BAD_ARGUMENT', 'BitReader range outside the buffer');
    }
    this.pos = byteOffset * 8;
    this.end = (byteOffset + len) * 8;
  }

  /** Bits not read yet. */
  get bitsLeft(): number {
    return this.end - this.pos;
  }

  /** Absolute bit position in the buffer. */
  get bitPos(): number {
    return this.pos;
  }

  /** Absolute byte position (floor) in the buffer. */
  get bytePos(): number {
    return this.pos >>> 3;
  }

  /** True when the position is on a byte boundary. */
  get byteAligned(): boolean {
    return (this.pos & 7) === 0;
  }

  private overrun(n: number): never {
    throw new MediaError(this.errorCode, `bit reader: need ${n} bits, ${this.end - this.pos} left`);
  }

  /** Read n bits (0..32) as an unsigned number. */
  readBits(n: number): number {
    if (n === 0) return 0;
    if (!(n > 0 && n <= 32)) throw new MediaError('BAD_ARGUMENT', `readBits(${n})`);
    if (this.pos + n > this.end) this.overrun(n);
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    let remaining = n;
    while (remaining > 0) {
      const bitOff = pos & 7;
      const avail = 8 - bitOff;
      const take = avail < remaining ? avail : remaining;
      const bits = (buf[pos >>> 3] >>> (avail - take)) & ((1 << take) - 1);
      result = result * (1 << take) + bits;
      remaining -= take;
      pos += take;
    }
    this.pos = pos;
    return result;
  }

  readBit(): number {
    if (this.pos >= this.end) this.overrun(1);
    const bit = (this.buf[this.pos >>> 3] >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return bit;
  }

  readFlag(): boolean {
    return this.readBit() === 1;
  }

  /** Look at the next n bits (0..32) without consuming them. */
  peekBits(n: number): number {
    const save = this.pos;
    try {
      return this.readBits(n);
    } finally {
      this.pos = save;
    }
  }

  skipBits(n: number): void {
    if (!(n >= 0)) throw new MediaError('BAD_ARGUMENT', `skipBits(${n})`);
    if (this.pos + n > this.end) this.overrun(n);
    this.pos += n;
  }

  skipBytes(n: number): void {
    this.skipBits(n * 8);
  }

  /** Skip to the next byte boundary. */
  byteAlign(): void {
    const rem = this.pos & 7;
    if (rem !== 0) this.skipBits(8 - rem);
  }

  /** Unsigned exp-Golomb ue(v), up to 2^32 - 2. */
  readUE(): number {
    let zeros = 0;
    while (this.readBit() === 0) {
      zeros++;
      if (zeros > 31) throw new MediaError(this.errorCode === 'TRUNCATED' ? 'BAD_EXP_GOLOMB' : this.errorCode, 'exp-Golomb code too long');
    }
    if (zeros === 0) return 0;
    return 2 ** zeros - 1 + this.readBits(zeros);
  }

  /** Signed exp-Golomb se(v). */
  readSE(): number {
    const k = this.readUE();
    if (k === 0) return 0;
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }

  /** Read whole bytes; the position must be byte aligned. Returns a subarray (no copy). */
  readBytes(n: number): Uint8Array {
    if (!this.byteAligned) throw new MediaError('BAD_ARGUMENT', 'readBytes on an unaligned position');
    if (!(n >= 0)) throw new MediaError('BAD_ARGUMENT', `readBytes(${n})`);
    if (this.pos + n * 8 > this.end) this.overrun(n * 8);
    const start = this.pos >>> 3;
    this.pos += n * 8;
    return this.buf.subarray(start, start + n);
  }
}

/**
 * MSB-first bit writer with a growing buffer; used by builders (configs, headers) and tests.
 */
export class BitWriter {
  private buf: Buffer;
  private pos = 0; // bit position

  constructor(initialBytes = 64) {
    this.buf = Buffer.alloc(Math.max(1, initialBytes));
  }

  get bitLength(): number {
    return this.pos;
  }

  private ensure(bits: number): void {
    const needBytes = (this.pos + bits + 7) >>> 3;
    if (needBytes > this.buf.length) {
      const next = Buffer.alloc(Math.max(needBytes, this.buf.length * 2));
      this.buf.copy(next);
      this.buf = next;
    }
  }

  /** Write the low n bits (0..32) of value. */
  writeBits(value: number, n: number): this {
    if (n === 0) return this;
    if (!(n > 0 && n <= 32)) throw new MediaError('BAD_ARGUMENT', `writeBits(n=${n})`);
    if (!(value >= 0) || value >= 2 ** n || !Number.isInteger(value)) {
      throw new MediaError('BAD_ARGUMENT', `value ${value} does not fit in ${n} bits`);
    }
    this.ensure(n);
    for (let i = n - 1; i >= 0; i--) {
      const bit = Math.floor(value / 2 ** i) & 1;
      if (bit) this.buf[this.pos >>> 3] |= 0x80 >>> (this.pos & 7);
      this.pos++;
    }
    return this;
  }

  writeBit(bit: number | boolean): this {
    this.ensure(1);
    if (bit) this.buf[this.pos >>> 3] |= 0x80 >>> (this.pos & 7);
    this.pos++;
    return this;
  }

  writeUE(value: number): this {
    if (!(value >= 0) || value > 2 ** 32 - 2 || !Number.isInteger(value)) {
      throw new MediaError('BAD_ARGUMENT', `ue(v) value ${value}`);
    }
    const v = value + 1;
    const len = 31 - Math.clz32(v); // v < 2^32, so len <= 31
    this.writeBits(0, len);
    this.writeBits(v, len + 1);
    return this;
  }

  writeSE(value: number): this {
    return this.writeUE(value > 0 ? 2 * value - 1 : -2 * value);
  }

  writeBytes(bytes: Uint8Array): this {
    for (let i = 0; i < bytes.length; i++) this.writeBits(bytes[i], 8);
    return this;
  }

  /** Pad with zero bits to the next byte boundary. */
  byteAlign(): this {
    const rem = this.pos & 7;
    if (rem !== 0) {
      this.ensure(8 - rem);
      this.pos += 8 - rem;
    }
    return this;
  }

  /** rbsp_trailing_bits: a 1 then zeros to the byte boundary. */
  writeTrailingBits(): this {
    this.writeBit(1);
    return this.byteAlign();
  }

  /** The bytes written so far (a copy, padded with zero bits to a whole byte). */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, (this.pos + 7) >>> 3));
  }
}

const EPB_PATTERN = Buffer.from([0, 0, 3]);

/**
 * NAL unit payload -> RBSP: drop each emulation-prevention byte (0x03 after two zero bytes).
 * Returns the input itself (no copy) when it holds none.
 */
export function removeEmulationPrevention(nal: Buffer): Buffer {
  const first = nal.indexOf(EPB_PATTERN);
  if (first < 0) return nal;
  const out = Buffer.allocUnsafe(nal.length);
  nal.copy(out, 0, 0, first + 2);
  let j = first + 2;
  let zeros = 0;
  for (let i = first + 3; i < nal.length; i++) {
    const b = nal[i];
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[j++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, j);
}

/** RBSP -> NAL unit payload: insert 0x03 wherever two zero bytes are followed by a byte <= 3. */
export function addEmulationPrevention(rbsp: Buffer): Buffer {
  let zeros = 0;
  let inserts = 0;
  for (let i = 0; i < rbsp.length; i++) {
    const b = rbsp[i];
    if (zeros >= 2 && b <= 3) {
      inserts++;
      zeros = 0;
    }
    zeros = b === 0 ? zeros + 1 : 0;
  }
  if (inserts === 0) return rbsp;
  const out = Buffer.allocUnsafe(rbsp.length + inserts);
  let j = 0;
  zeros = 0;
  for (let i = 0; i < rbsp.length; i++) {
    const b = rbsp[i];
    if (zeros >= 2 && b <= 3) {
      out[j++] = 3;
      zeros = 0;
    }
    out[j++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out;
}
