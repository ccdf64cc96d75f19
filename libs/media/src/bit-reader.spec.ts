import fc from 'fast-check';
import { addEmulationPrevention, BitReader, BitWriter, removeEmulationPrevention } from './bit-reader';
import { MediaError } from './media.errors';

describe('BitReader', () => {
  it('reads bits MSB first across byte boundaries', () => {
    const r = new BitReader(Buffer.from([0b10110011, 0b01010101, 0xff, 0x00, 0x12, 0x34, 0x56, 0x78]));
    expect(r.readBit()).toBe(1);
    expect(r.readBits(3)).toBe(0b011);
    expect(r.readBits(8)).toBe(0b00110101);
    expect(r.readBits(4)).toBe(0b0101);
    expect(r.bitsLeft).toBe(48);
    expect(r.readBits(16)).toBe(0xff00);
    expect(r.readBits(32)).toBe(0x12345678);
    expect(r.bitsLeft).toBe(0);
  });

  it('reads 32 bits unsigned at unaligned offsets', () => {
    const r = new BitReader(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xf0]));
    r.skipBits(1);
    expect(r.readBits(32)).toBe(0xffffffff);
  });

  it.each([
    // bits, ue value
    ['1', 0],
    ['010', 1],
    ['011', 2],
    ['00100', 3],
    ['00111', 6],
    ['0001000', 7],
    ['000000001111111111', 510],
    ['0000000001111111111', 1022],
  ])('readUE %s = %d', (bits, value) => {
    const w = new BitWriter();
    for (const c of bits) w.writeBit(c === '1');
    const r = new BitReader(w.toBuffer());
    expect(r.readUE()).toBe(value);
  });

  it.each([
    [0, 0],
    [1, 1],
    [2, -1],
    [3, 2],
    [4, -2],
    [5, 3],
  ])('readSE of code %d = %d', (code, value) => {
    const r = new BitReader(new BitWriter().writeUE(code).toBuffer());
    expect(r.readSE()).toBe(value);
  });

  it('throws TRUNCATED past the end, with the given code when set', () => {
    const r = new BitReader(Buffer.from([0xff]));
    r.readBits(7);
    expect(() => r.readBits(2)).toThrow(MediaError);
    try {
      new BitReader(Buffer.from([0]), 0, 1, 'BAD_SPS').readBits(9);
    } catch (e) {
      expect((e as MediaError).code).toBe('BAD_SPS');
    }
    expect(() => new BitReader(Buffer.alloc(0)).readBit()).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
    expect(() => new BitReader(Buffer.alloc(0)).skipBits(1)).toThrow(MediaError);
  });

  it('rejects an exp-Golomb code longer than 32 bits', () => {
    expect(() => new BitReader(Buffer.alloc(8)).readUE()).toThrow(expect.objectContaining({ code: 'BAD_EXP_GOLOMB' }));
  });

  it('honours byteOffset/byteLength and readBytes subarrays', () => {
    const buf = Buffer.from([1, 2, 3, 4, 5]);
    const r = new BitReader(buf, 1, 3);
    expect(r.readBits(8)).toBe(2);
    const b = r.readBytes(2);
    expect(Array.from(b)).toEqual([3, 4]);
    expect(b.buffer).toBe(buf.buffer);
    expect(() => r.readBits(1)).toThrow(MediaError);
    expect(() => new BitReader(buf, 4, 2)).toThrow(MediaError);
  });

  it('peekBits does not consume, byteAlign skips to the boundary', () => {
    const r = new BitReader(Buffer.from([0xa5, 0x0f]));
    expect(r.peekBits(4)).toBe(0xa);
    expect(r.readBits(3)).toBe(0b101);
    r.byteAlign();
    expect(r.readBits(8)).toBe(0x0f);
  });

  it('round-trips random fields through BitWriter (property)', () => {
    const field = fc.oneof(
      fc.record({ kind: fc.constant('bits' as const), n: fc.integer({ min: 1, max: 32 }), v: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({ kind: fc.constant('ue' as const), v: fc.integer({ min: 0, max: 2 ** 32 - 2 }) }),
      fc.record({ kind: fc.constant('se' as const), v: fc.integer({ min: -(2 ** 30), max: 2 ** 30 }) }),
    );
    fc.assert(
      fc.property(fc.array(field, { maxLength: 40 }), (fields) => {
        const w = new BitWriter(1);
        const expected: number[] = [];
        for (const f of fields) {
          if (f.kind === 'bits') {
            const v = Math.floor(f.v * (2 ** f.n - 1));
            w.writeBits(v, f.n);
            expected.push(v);
          } else if (f.kind === 'ue') {
            w.writeUE(f.v);
            expected.push(f.v);
          } else {
            w.writeSE(f.v);
            expected.push(f.v);
          }
        }
        const r = new BitReader(w.toBuffer());
        fields.forEach((f, i) => {
          const got = f.kind === 'bits' ? r.readBits(f.n) : f.kind === 'ue' ? r.readUE() : r.readSE();
          expect(got).toBe(expected[i]);
        });
        expect(r.bitsLeft).toBeLessThan(8);
      }),
    );
  });

  it('never throws anything but MediaError on random input (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 50 }), (bytes, ops) => {
        const r = new BitReader(bytes);
        try {
          for (const op of ops) {
            if (op === 0) r.readUE();
            else if (op === 1) r.readSE();
            else if (op === 2) r.readBits(13);
            else r.readBit();
          }
        } catch (e) {
          expect(e).toBeInstanceOf(MediaError);
        }
      }),
    );
  });
});

describe('emulation prevention', () => {
  it.each([
    ['no escape', [1, 2, 3], [1, 2, 3]],
    ['one escape', [0, 0, 3, 1], [0, 0, 1]],
    ['escape at end', [5, 0, 0, 3], [5, 0, 0]],
    ['two escapes', [0, 0, 3, 0, 0, 3, 0], [0, 0, 0, 0, 0]],
    ['3 after one zero kept', [0, 3, 0, 0, 3, 3], [0, 3, 0, 0, 3]],
  ])('removes: %s', (_name, input, output) => {
    expect(Array.from(removeEmulationPrevention(Buffer.from(input)))).toEqual(output);
  });

  it('returns the same buffer when there is nothing to remove', () => {
    const b = Buffer.from([0x67, 0x42, 0, 1, 0]);
    expect(removeEmulationPrevention(b)).toBe(b);
  });

  it('add then remove is the identity (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a.map((x) => (x < 200 ? x % 4 : x)))), (rbsp) => {
        const nal = addEmulationPrevention(rbsp);
        // no start code prefix pattern can appear in an escaped payload
        for (let i = 0; i + 2 < nal.length; i++) {
          expect(nal[i] === 0 && nal[i + 1] === 0 && nal[i + 2] <= 2).toBe(false);
        }
        expect(removeEmulationPrevention(nal).equals(rbsp)).toBe(true);
      }),
    );
  });
});
