import fc from 'fast-check';
import { hasStartCode, joinAnnexB, joinAvcc, splitAnnexB, splitAvcc } from './annexb';
import { MediaError } from './media.errors';

const hex = (b: Buffer[]) => b.map((x) => x.toString('hex'));

describe('splitAnnexB', () => {
  it.each([
    ['4-byte start codes', '00000001674200000001688e', ['6742', '688e']],
    ['3-byte start codes', '000001674200000168ce', ['6742', '68ce']],
    ['mixed and trailing zeros', '0000000165aa0000000001419a000001', ['65aa', '419a']],
    ['leading garbage dropped', 'ffee000001090000000141', ['09', '41']],
    ['no start code', '6742', []],
    ['empty', '', []],
    ['empty units skipped', '000001000001000000016501', ['6501']],
  ])('%s', (_name, input, units) => {
    expect(hex(splitAnnexB(Buffer.from(input, 'hex')))).toEqual(units);
  });

  it('returns subarrays of the input', () => {
    const buf = Buffer.from('000000016742000001688e', 'hex');
    const [a] = splitAnnexB(buf);
    expect(a.buffer).toBe(buf.buffer);
    expect(a.byteOffset).toBe(buf.byteOffset + 4);
  });

  it('joinAnnexB + splitAnnexB round-trip (property)', () => {
    // NAL units never end in 0 and never contain 00 00 0x (x <= 3) after emulation prevention
    const nal = fc
      .uint8Array({ minLength: 1, maxLength: 40 })
      .map((a) => Buffer.from(a.map((x) => (x === 0 ? 7 : x))));
    fc.assert(
      fc.property(fc.array(nal, { maxLength: 8 }), (nals) => {
        const joined = joinAnnexB(nals);
        expect(joined.length).toBe(nals.reduce((s, n) => s + 4 + n.length, 0));
        if (nals.length) expect(hasStartCode(joined)).toBe(true);
        expect(hex(splitAnnexB(joined))).toEqual(hex(nals));
      }),
    );
  });

  it('never throws on random input (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a.map((x) => (x < 128 ? x % 3 : x)))), (buf) => {
        const units = splitAnnexB(buf);
        for (const u of units) expect(u.length).toBeGreaterThan(0);
      }),
    );
  });
});

describe('AVCC framing', () => {
  it.each([1, 2, 3, 4])('round-trips with %d-byte lengths', (lengthSize) => {
    const nals = [Buffer.from('6588', 'hex'), Buffer.alloc(200, 1), Buffer.from('41', 'hex')];
    const joined = joinAvcc(nals, lengthSize);
    expect(joined.length).toBe(nals.reduce((s, n) => s + lengthSize + n.length, 0));
    const back = splitAvcc(joined, lengthSize);
    expect(hex(back)).toEqual(hex(nals));
    expect(back[0].buffer).toBe(joined.buffer);
  });

  it('throws BAD_NAL_LENGTH on a length past the end or a cut prefix', () => {
    expect(() => splitAvcc(Buffer.from('0000000565', 'hex'))).toThrow(expect.objectContaining({ code: 'BAD_NAL_LENGTH' }));
    expect(() => splitAvcc(Buffer.from('00000001650000', 'hex'))).toThrow(MediaError);
  });

  it('skips zero-length units', () => {
    expect(hex(splitAvcc(Buffer.from('000000000000000165', 'hex')))).toEqual(['65']);
  });

  it('refuses a unit too long for the length field', () => {
    expect(() => joinAvcc([Buffer.alloc(256)], 1)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(() => joinAvcc([Buffer.alloc(1)], 5)).toThrow(MediaError);
  });

  it('only throws MediaError on random input (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.constantFrom(1, 2, 4), (bytes, ls) => {
        try {
          splitAvcc(Buffer.from(bytes), ls);
        } catch (e) {
          expect(e).toBeInstanceOf(MediaError);
        }
      }),
    );
  });
});
