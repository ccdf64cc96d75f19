import fc from 'fast-check';
import { AmfError } from './amf.errors';
import { Amf0EcmaArray, Amf0Value, decodeAmf0, encodeAmf0, Amf0Reader } from './amf0';
import { encodeAmf3 } from './amf3';
import { expectErrorCode } from '@m7s/test-kit/expect-error';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const expectAmfError = (fn: () => unknown, code?: string): void => expectErrorCode(fn, AmfError, code);

describe('AMF0 encode (exact bytes)', () => {
  const cases: [string, Amf0Value, string][] = [
    ['number 0', 0, '00 0000000000000000'],
    ['number 1', 1, '00 3ff0000000000000'],
    ['number -1.5', -1.5, '00 bff8000000000000'],
    ['true', true, '01 01'],
    ['false', false, '01 00'],
    ['string', 'live', '02 0004 6c697665'],
    ['empty string', '', '02 0000'],
    ['utf-8 string', 'é', '02 0002 c3a9'],
    ['null', null, '05'],
    ['undefined', undefined, '06'],
    ['date', new Date(1000), '0b 408f400000000000 0000'],
    ['strict array', [1, 'a'], '0a 00000002 00 3ff0000000000000 02 0001 61'],
    ['empty object', {}, '03 0000 09'],
    ['object', { a: null, b: true }, '03 0001 61 05 0001 62 01 01 0000 09'],
    ['ecma array', new Amf0EcmaArray({ w: 2 }), '08 00000001 0001 77 00 4000000000000000 0000 09'],
    ['nested', { o: { x: [] } }, '03 0001 6f 03 0001 78 0a 00000000 0000 09 0000 09'],
  ];
  it.each(cases)('%s', (_name, value, bytes) => {
    expect(encodeAmf0(value).toString('hex')).toBe(hex(bytes).toString('hex'));
  });

  it('encodes a string over 65535 bytes as a long string', () => {
    const s = 'x'.repeat(70000);
    const b = encodeAmf0(s);
    expect(b[0]).toBe(0x0c);
    expect(b.readUInt32BE(1)).toBe(70000);
    expect(decodeAmf0(b)).toEqual([s]);
  });

  it('encodes several values one after another', () => {
    expect(encodeAmf0('_result', 1, null).toString('hex')).toBe('0200075f726573756c74003ff000000000000005');
  });

  it.each([
    ['function', () => 1],
    ['symbol', Symbol('x')],
    ['bigint', BigInt(1)],
    ['Buffer', Buffer.alloc(1)],
    ['Map', new Map()],
  ])('rejects a %s with UNSUPPORTED_TYPE', (_n, v) => {
    expectAmfError(() => encodeAmf0(v as unknown as Amf0Value), 'UNSUPPORTED_TYPE');
  });

  it('rejects a cycle', () => {
    const o: Record<string, Amf0Value> = {};
    o.self = o;
    expectAmfError(() => encodeAmf0(o), 'CYCLE');
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { a: 1 };
    expect(decodeAmf0(encodeAmf0([shared, shared]))).toEqual([[{ a: 1 }, { a: 1 }]]);
  });
});

describe('AMF0 decode', () => {
  it('decodes the connect command ffmpeg sends', () => {
    const bytes = encodeAmf0('connect', 1, {
      app: 'live',
      flashVer: 'FMLE/3.0 (compatible; Lavf61.7.100)',
      tcUrl: 'rtmp://127.0.0.1:1935/live',
      type: 'nonprivate',
    });
    expect(decodeAmf0(bytes)).toEqual([
      'connect',
      1,
      { app: 'live', flashVer: 'FMLE/3.0 (compatible; Lavf61.7.100)', tcUrl: 'rtmp://127.0.0.1:1935/live', type: 'nonprivate' },
    ]);
  });

  const cases: [string, string, Amf0Value[]][] = [
    ['ecma array -> plain object', '08 00000001 0001 61 01 01 0000 09', [{ a: true }]],
    ['ecma array with a wrong count', '08 00000063 0001 61 01 01 0000 09', [{ a: true }]],
    ['ecma array without end marker at buffer end', '08 00000001 0001 61 01 01', [{ a: true }]],
    ['object with "00 00" but no 09 at buffer end', '03 0001 61 05 0000', [{ a: null }]],
    ['typed object (class name dropped)', '10 0003 466f6f 0001 78 05 0000 09', [{ x: null }]],
    ['long string', '0c 00000002 6869', ['hi']],
    ['xml document', '0f 00000003 3c612f', ['<a/']],
    ['unsupported -> undefined', '0d', [undefined]],
    ['reference to a previous object', '0a 00000002 03 0001 61 05 0000 09 07 0001', [[{ a: null }, { a: null }]]],
    ['date ignores the timezone', '0b 408f400000000000 ffc4', [new Date(1000)]],
    ['AVM+ switch: AMF3 integer', '11 04 05', [5]],
    ['AVM+ switch: AMF3 object', '11 0a 0b 01 03 6b 06 03 76 01', [{ k: 'v' }]],
    ['AVM+ then AMF0 again', '11 06 05 61 62 05', ['ab', null]],
    ['empty buffer', '', []],
  ];
  it.each(cases)('%s', (_n, bytes, expected) => {
    expect(decodeAmf0(hex(bytes))).toEqual(expected);
  });

  it('a reference returns the same JS object', () => {
    const [arr] = decodeAmf0(hex('0a 00000002 03 0000 09 07 0001')) as [Amf0Value[]];
    expect(arr[0]).toBe(arr[1]);
  });

  const bad: [string, string, string][] = [
    ['truncated number', '00 3ff0', 'TRUNCATED'],
    ['truncated string', '02 0005 6869', 'TRUNCATED'],
    ['truncated long string', '0c ffffffff 00', 'TRUNCATED'],
    ['strict array count larger than the buffer', '0a 7fffffff 05', 'BAD_LENGTH'],
    ['unknown marker', '12', 'UNKNOWN_MARKER'],
    ['movieclip', '04', 'UNSUPPORTED_MARKER'],
    ['recordset', '0e', 'UNSUPPORTED_MARKER'],
    ['object-end sequence at top level reads as a truncated number', '0000 09', 'TRUNCATED'],
    ['object end as a value', '09', 'UNEXPECTED_OBJECT_END'],
    ['reference out of range', '07 0000', 'BAD_REFERENCE'],
    ['reference to itself (cycle)', '03 0001 61 07 0000 0000 09', 'BAD_REFERENCE'],
    ['AMF3 unknown marker', '11 20', 'UNKNOWN_MARKER'],
  ];
  it.each(bad)('rejects %s', (_n, bytes, code) => {
    expectAmfError(() => decodeAmf0(hex(bytes)), code);
  });

  it('never pollutes prototypes', () => {
    const bytes = Buffer.concat([hex('03 0009'), Buffer.from('__proto__'), hex('03 0006'), Buffer.from('polled'), hex('01 01 0000 09 0000 09')]);
    const [o] = decodeAmf0(bytes) as [Record<string, any>];
    expect(({} as any).polled).toBeUndefined();
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(['__proto__']);
    expect(o.polled).toBeUndefined();
    // also through ECMA arrays and AMF3
    decodeAmf0(Buffer.concat([hex('08 00000001 0009'), Buffer.from('__proto__'), hex('01 01 0000 09')]));
    decodeAmf0(Buffer.concat([hex('11 0a 0b 01 13'), Buffer.from('__proto__'), hex('03 01')]));
    expect(({} as any).polled).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polled')).toBe(false);
  });

  it('limits nesting depth', () => {
    const deep = Buffer.concat(Array.from({ length: 200 }, () => hex('0a 00000001'))); // [[[[...
    expectAmfError(() => decodeAmf0(deep), 'DEPTH_EXCEEDED');
    let v: Amf0Value = 1;
    for (let i = 0; i < 10; i++) v = [v];
    expect(decodeAmf0(encodeAmf0(v), { maxDepth: 10 })).toEqual([v]);
    expectAmfError(() => decodeAmf0(encodeAmf0(v), { maxDepth: 9 }), 'DEPTH_EXCEEDED');
  });

  it('bounds reference expansion ("billion laughs")', () => {
    // outer = [a0, a1, ..., a30] with a0 = [null, null] and a_k = [ref a_(k-1), ref a_(k-1)]:
    // 2^31 values reachable from ~300 bytes
    const seq: Buffer[] = [hex('0a 0000001f'), hex('0a 00000002 05 05')];
    for (let k = 1; k <= 30; k++) seq.push(hex('0a 00000002'), Buffer.from([7, 0, k, 7, 0, k]));
    expectAmfError(() => decodeAmf0(Buffer.concat(seq)), 'TOO_MANY_VALUES');
    expect(() => decodeAmf0(Buffer.concat(seq), { maxValues: 1e10 })).not.toThrow();
  });

  it('Amf0Reader reads value by value', () => {
    const r = new Amf0Reader(encodeAmf0('a', 2, null));
    expect(r.readValue()).toBe('a');
    expect(r.pos).toBe(4);
    expect(r.readValue()).toBe(2);
    expect(r.remaining).toBe(1);
  });

  it('decodes an AMF3 value produced by encodeAmf3 after an AVM+ switch', () => {
    const v = { a: [1, 2, 'x'], b: { c: 1.5, d: null } };
    expect(decodeAmf0(Buffer.concat([Buffer.from([0x11]), encodeAmf3(v)]))).toEqual([v]);
  });
});

// ------------------------------------------------------------------------------------------
// properties

const key = fc.string({ maxLength: 8 }).filter((k) => k !== '');
const amf0Arb: fc.Arbitrary<Amf0Value> = fc.letrec<{ v: Amf0Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.double(),
    fc.boolean(),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.constant(null),
    fc.constant(undefined),
    fc.integer({ min: -8.64e15, max: 8.64e15 }).map((t) => new Date(t)),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(key, tie('v'), { maxKeys: 5 }),
    fc.dictionary(key, tie('v'), { maxKeys: 5 }).map((e) => new Amf0EcmaArray(e)),
  ),
})).v;

/** what a value decodes to: ECMA arrays become plain objects */
function normalize(v: Amf0Value): Amf0Value {
  if (v instanceof Amf0EcmaArray) return normalize(v.entries);
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    const o: Record<string, Amf0Value> = {};
    for (const k of Object.keys(v)) Object.defineProperty(o, k, { value: normalize((v as Record<string, Amf0Value>)[k]), enumerable: true, writable: true, configurable: true });
    return o;
  }
  return v;
}

describe('AMF0 properties', () => {
  it('decode(encode(values)) == values', () => {
    fc.assert(
      fc.property(fc.array(amf0Arb, { maxLength: 4 }), (values) => {
        expect(decodeAmf0(encodeAmf0(...values))).toEqual(values.map(normalize));
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes: decode returns or throws AmfError only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeAmf0(Buffer.from(bytes));
        } catch (e) {
          if (!(e instanceof AmfError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid input: decode returns or throws AmfError only', () => {
    fc.assert(
      fc.property(
        fc.array(amf0Arb, { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (values, flips, cut) => {
          const b = Buffer.from(encodeAmf0(...values));
          for (const [i, v] of flips) b[i % b.length] = v;
          const truncated = b.subarray(0, cut % (b.length + 1));
          for (const input of [b, truncated]) {
            try {
              decodeAmf0(input);
            } catch (e) {
              if (!(e instanceof AmfError)) throw e;
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
