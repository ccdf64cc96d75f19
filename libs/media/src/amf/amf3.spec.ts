import fc from 'fast-check';
import { AmfError } from './amf.errors';
import { Amf3Reader, Amf3Value, decodeAmf3, encodeAmf3 } from './amf3';
import { expectErrorCode } from '@m7s/test-kit/expect-error';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const str = (s: string) => Buffer.from(s).toString('hex');

const expectAmfError = (fn: () => unknown, code: string): void => expectErrorCode(fn, AmfError, code);

describe('AMF3 integers (U29)', () => {
  const cases: [number, string][] = [
    [0, '04 00'],
    [127, '04 7f'],
    [128, '04 81 00'],
    [16383, '04 ff 7f'],
    [16384, '04 81 80 00'],
    [0x1fffff, '04 ff ff 7f'],
    [0x200000, '04 80 c0 80 00'],
    [0x0fffffff, '04 bf ff ff ff'],
    [-1, '04 ff ff ff ff'],
    [-0x10000000, '04 c0 80 80 00'],
  ];
  it.each(cases)('%d <-> %s', (n, bytes) => {
    expect(encodeAmf3(n).toString('hex')).toBe(hex(bytes).toString('hex'));
    expect(decodeAmf3(hex(bytes))).toEqual([n]);
  });
  it.each([0x10000000, -0x10000001, 1.5, -0])('%d is encoded as a double', (n) => {
    const b = encodeAmf3(n);
    expect(b[0]).toBe(0x05);
    expect(Object.is(decodeAmf3(b)[0], n)).toBe(true);
  });
});

describe('AMF3 decode', () => {
  const cases: [string, string, Amf3Value[]][] = [
    ['undefined null false true', '00 01 02 03', [undefined, null, false, true]],
    ['double', '05 3ff8000000000000', [1.5]],
    ['string', `06 07 ${str('abc')}`, ['abc']],
    ['empty string', '06 01', ['']],
    ['string reference', `09 05 01 06 05 ${str('ab')} 06 00`, [['ab', 'ab']]],
    ['date', '08 01 408f400000000000', [new Date(1000)]],
    ['xml', `0b 09 ${str('<a/>')}`, ['<a/>']],
    ['xml document', `07 09 ${str('<a/>')}`, ['<a/>']],
    ['byte array', '0c 07 010203', [Buffer.from([1, 2, 3])]],
    ['dense array', '09 05 01 04 01 04 02', [[1, 2]]],
    ['array with associative part', `09 03 03 ${str('a')} 04 01 01 04 02`, [{ 0: 2, a: 1 }]],
    ['anonymous dynamic object', `0a 0b 01 03 ${str('k')} 06 03 ${str('v')} 01`, [{ k: 'v' }]],
    ['sealed object', `0a 13 07 ${str('Foo')} 03 ${str('x')} 04 01`, [{ x: 1 }]],
    ['sealed + dynamic object', `0a 1b 07 ${str('Foo')} 03 ${str('x')} 04 01 03 ${str('y')} 04 02 01`, [{ x: 1, y: 2 }]],
    ['trait reference', `09 05 01 0a 13 07 ${str('Foo')} 03 ${str('x')} 04 01 0a 01 04 02`, [[{ x: 1 }, { x: 2 }]]],
    ['object reference', '09 05 01 0a 0b 01 01 0a 02', [[{}, {}]]],
    ['ArrayCollection', `0a 07 43 ${str('flex.messaging.io.ArrayCollection')} 09 03 01 04 07`, [[7]]],
    ['vector int', '0d 05 00 00000001 ffffffff', [[1, -1]]],
    ['vector uint', '0e 03 00 ffffffff', [[4294967295]]],
    ['vector double', '0f 03 01 3ff8000000000000', [[1.5]]],
    ['vector object', `10 05 00 01 04 01 06 03 ${str('a')}`, [[1, 'a']]],
    ['dictionary', `11 03 00 06 03 ${str('k')} 04 01`, [new Map([['k', 1]])]],
  ];
  it.each(cases)('%s', (_n, bytes, expected) => {
    expect(decodeAmf3(hex(bytes))).toEqual(expected);
  });

  it('object references give the same JS object', () => {
    const [arr] = decodeAmf3(hex('09 05 01 0a 0b 01 01 0a 02')) as [Amf3Value[]];
    expect(arr[0]).toBe(arr[1]);
  });

  const bad: [string, string, string][] = [
    ['truncated U29', '04 ff ff', 'TRUNCATED'],
    ['truncated double', '05 3ff8', 'TRUNCATED'],
    ['string longer than the buffer', '06 ff ff ff 7f 61', 'TRUNCATED'],
    ['string reference out of range', '06 02', 'BAD_REFERENCE'],
    ['object reference out of range', '0a 04', 'BAD_REFERENCE'],
    ['trait reference out of range', '0a 05', 'BAD_REFERENCE'],
    ['cycle: object containing itself', `0a 0b 01 03 ${str('a')} 0a 00 01`, 'BAD_REFERENCE'],
    ['array count larger than the buffer', '09 ff ff ff 7f 01', 'BAD_LENGTH'],
    ['sealed count larger than the buffer', '0a ff ff ff f3 01', 'BAD_LENGTH'],
    ['vector count larger than the buffer', '0f ff ff 7f 00 00', 'BAD_LENGTH'],
    ['dictionary count larger than the buffer', '11 ff ff 7f 00 00', 'BAD_LENGTH'],
    ['unknown externalizable', `0a 07 07 ${str('Foo')} 00`, 'UNSUPPORTED_MARKER'],
    ['unknown marker', '12', 'UNKNOWN_MARKER'],
  ];
  it.each(bad)('rejects %s', (_n, bytes, code) => {
    expectAmfError(() => decodeAmf3(hex(bytes)), code);
  });

  it('limits depth', () => {
    expectAmfError(() => decodeAmf3(Buffer.concat(Array.from({ length: 100 }, () => hex('09 03 01')))), 'DEPTH_EXCEEDED');
  });

  it('bounds reference expansion', () => {
    // outer array [a0..a25], a_k = [ref a_(k-1), ref a_(k-1)]: 2^26 values from ~130 bytes
    const parts = [hex('09 35 01'), hex('09 05 01 01 01')];
    for (let k = 1; k <= 25; k++) parts.push(hex('09 05 01'), Buffer.from([9, k << 1, 9, k << 1]));
    expectAmfError(() => decodeAmf3(Buffer.concat(parts)), 'TOO_MANY_VALUES');
  });

  it('never pollutes prototypes', () => {
    decodeAmf3(hex(`0a 0b 01 13 ${str('__proto__')} 0a 0b 01 0d ${str('polled')} 03 01 01`));
    decodeAmf3(hex(`09 01 13 ${str('__proto__')} 03 01`));
    expect(({} as any).polled).toBeUndefined();
  });

  it('Amf3Reader exposes the position', () => {
    const r = new Amf3Reader(hex('04 01 06 03 61'));
    expect(r.readValue()).toBe(1);
    expect(r.pos).toBe(2);
    expect(r.readValue()).toBe('a');
    expect(r.remaining).toBe(0);
  });
});

describe('AMF3 encode', () => {
  it.each([
    ['object', { a: 1 }, `0a 0b 01 03 ${str('a')} 04 01 01`],
    ['array', [true, null], '09 05 01 03 01'],
    ['date', new Date(1000), '08 01 408f400000000000'],
    ['buffer', Buffer.from([9]), '0c 03 09'],
    ['repeated strings by reference', ['ab', 'ab'], `09 05 01 06 05 ${str('ab')} 06 00`],
  ])('%s', (_n, v, bytes) => {
    expect(encodeAmf3(v).toString('hex')).toBe(hex(bytes).toString('hex'));
  });

  it('rejects cycles and unsupported types', () => {
    const o: Record<string, unknown> = {};
    o.o = o;
    expectAmfError(() => encodeAmf3(o), 'CYCLE');
    expectAmfError(() => encodeAmf3(() => 1), 'UNSUPPORTED_TYPE');
  });
});

const key = fc.string({ maxLength: 6 }).filter((k) => k !== '');
const amf3Arb: fc.Arbitrary<Amf3Value> = fc.letrec<{ v: Amf3Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.string({ maxLength: 10 }),
    fc.constantFrom('a', 'b', 'c'),
    fc.constant(null),
    fc.constant(undefined),
    fc.integer({ min: -8.64e15, max: 8.64e15 }).map((t) => new Date(t)),
    fc.uint8Array({ maxLength: 8 }).map((u) => Buffer.from(u)),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(key, tie('v'), { maxKeys: 5 }),
  ),
})).v;

describe('AMF3 properties', () => {
  it('decode(encode(values)) == values', () => {
    fc.assert(
      fc.property(fc.array(amf3Arb, { maxLength: 4 }), (values) => {
        // one writer per value in encodeAmf3(...values) shares the string table, like one reader
        expect(decodeAmf3(encodeAmf3(...values))).toEqual(values);
      }),
      { numRuns: 500 },
    );
  });

  it('random and mutated bytes: only AmfError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
          fc
            .tuple(amf3Arb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 5 }))
            .map(([v, flips]) => {
              const b = Buffer.from(encodeAmf3(v));
              for (const [i, x] of flips) b[i % b.length] = x;
              return b;
            }),
        ),
        (b) => {
          try {
            decodeAmf3(b);
          } catch (e) {
            if (!(e instanceof AmfError)) throw e;
          }
        },
      ),
      { numRuns: 4000 },
    );
  });
});
