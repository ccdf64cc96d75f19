import fc from 'fast-check';
import { MediaError } from '../media.errors';
import { H265AccessUnit, H265Depacketizer, packetizeH265, parseH265RtpPayload } from './h265-rtp';
import { parseRtpPacket, RtpPacket, RtpStamper } from './rtp-packet';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A NAL unit of `size` bytes (at least 2): 2-byte header (type, layer, tid) then pseudo-random bytes. */
function nal(type: number, size: number, seed = size, layerId = 0, tid = 1): Buffer {
  const b = Buffer.allocUnsafe(size);
  b[0] = (type << 1) | (layerId >>> 5);
  b[1] = ((layerId & 0x1f) << 3) | tid;
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 2; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function rtp(seq: number, ts: number, payload: string | Buffer, marker = false): RtpPacket {
  return { marker, payloadType: 96, sequenceNumber: seq & 0xffff, timestamp: ts, ssrc: 1, csrcs: [], payload: typeof payload === 'string' ? hex(payload) : payload, paddingSize: 0 };
}

function feed(d: H265Depacketizer, pkts: RtpPacket[]): H265AccessUnit[] {
  return [...pkts.flatMap((p) => d.push(p)), ...d.flushPending()];
}

const hexNals = (aus: H265AccessUnit[]) => aus.map((a) => a.nals.map((n) => n.toString('hex')));

// NAL headers used below: VPS 4001, SPS 4201, PPS 4401, prefix SEI 4e01, IDR_W_RADL 2601, TRAIL_R 0201,
// CRA 2a01; payload headers: AP 6001, FU 6201.
describe('packetizeH265', () => {
  it.each<[string, string[], number, string[]]>([
    ['VPS+SPS+PPS+SEI in one AP (RFC 7798 4.4.2)', ['4001 0c', '4201 0101', '4401 c1', '4e01 05'], 1200, ['6001 0003 40010c 0004 42010101 0003 4401c1 0003 4e0105']],
    ['AP F bit is the OR, LayerId and TID the lowest', ['c009 aa', '0212 bb'], 1200, ['e009 0003 c009aa 0003 0212bb']],
    ['FU in equal fragments (RFC 7798 4.4.3)', ['2601 0102030405060708090a'], 7, ['6201 93 01020304', '6201 13 05060708', '6201 53 090a']],
    ['FU keeps F, LayerId and TID', ['8313 aabbcc'], 4, ['e313 81 aa', 'e313 01 bb', 'e313 41 cc']],
    ['a unit of exactly the MTU goes alone', ['0201 0102', '0201 0304'], 4, ['02010102', '02010304']],
    ['a group that outgrows the MTU is split', ['0201 01', '0201 02', '0201 03'], 12, ['6001 0003 020101 0003 020102', '020103']],
    ['small units around a large one', ['4001 aa', '2601 0102030405', '4e01 bb'], 6, ['4001aa', '6201 93 010203', '6201 53 0405', '4e01bb']],
    ['empty, 1-byte and RTP-only types are skipped', ['', '02', '6001 aa', '6201 aa', '6401 aa', '7f01 aa', '0201 aa'], 1200, ['0201aa']],
    ['a 2-byte unit (end of sequence) is carried', ['4801', '4a01'], 1200, ['6001 0002 4801 0002 4a01']],
  ])('%s', (_n, nals, mtu, want) => {
    const out = packetizeH265(nals.map(hex), { mtu });
    expect(out.map((p) => p.payload.toString('hex'))).toEqual(want.map((w) => hex(w).toString('hex')));
    expect(out.map((p) => p.marker)).toEqual(want.map((_w, i) => i === want.length - 1));
    expect(out.every((p) => p.payload.length <= mtu)).toBe(true);
  });

  it('sends single NAL unit packets without APs when asked', () => {
    const out = packetizeH265([hex('4001aa'), hex('4201bb')], { aggregate: false });
    expect(out.map((p) => p.payload.toString('hex'))).toEqual(['4001aa', '4201bb']);
  });

  it('gives nothing for an empty access unit', () => {
    expect(packetizeH265([])).toEqual([]);
  });

  it.each([0, 3, 4.5, NaN])('rejects MTU %d', (mtu) => {
    expect(() => packetizeH265([hex('0201aa')], { mtu })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});

describe('parseH265RtpPayload', () => {
  it.each([
    ['empty', ''],
    ['1 byte', '02'],
    ['type 51', '6601 aa'],
    ['type 63', '7e01 aa'],
    ['AP size past the end', '6001 0005 4001aa'],
    ['AP half a size', '6001 0003 4001aa 00'],
    ['AP unit of size 0', '6001 0000'],
    ['AP unit of size 1', '6001 0001 40'],
    ['AP without units', '6001'],
    ['AP carrying an FU', '6001 0003 620193'],
    ['FU without data', '6201 93'],
    ['FU with S and E', '6201 d3 00'],
    ['FU of type 48', '6201 b0 00'],
    ['FU of type 49', '6201 b1 00'],
  ])('rejects %s with BAD_NAL', (_n, h) => {
    expect(() => parseH265RtpPayload(hex(h))).toThrow(expect.objectContaining({ code: 'BAD_NAL' }));
  });

  it('reads the FU header and rebuilds the NAL header', () => {
    expect(parseH265RtpPayload(hex('e313 41 aabb'))).toEqual({ kind: 'fu', start: false, end: true, header: 0x8313, data: hex('aabb') });
  });

  it('recognises PACI', () => {
    expect(parseH265RtpPayload(hex('6401 0000 2601aa'))).toEqual({ kind: 'paci' });
  });

  it('returns a single NAL unit packet as is, including type 0 and 2-byte units', () => {
    expect(parseH265RtpPayload(hex('0001 aa'))).toEqual({ kind: 'nals', nals: [hex('0001aa')] });
    expect(parseH265RtpPayload(hex('4801'))).toEqual({ kind: 'nals', nals: [hex('4801')] });
  });
});

describe('H265Depacketizer', () => {
  it('rebuilds single NAL, AP and FU units into access units', () => {
    const d = new H265Depacketizer();
    const aus = feed(d, [
      rtp(1, 3000, '6001 0003 40010c 0004 42010101 0003 4401c1'),
      rtp(2, 3000, '6201 93 0102'),
      rtp(3, 3000, '6201 13 0304'),
      rtp(4, 3000, '6201 53 05', true),
      rtp(5, 6000, '0201 aa', true),
    ]);
    expect(hexNals(aus)).toEqual([['40010c', '42010101', '4401c1', '26010102030405'], ['0201aa']]);
    expect(aus.map((a) => [a.timestamp, a.complete])).toEqual([
      [3000, true],
      [6000, true],
    ]);
    expect(d.keyFrameNeeded).toBe(false);
    expect(d.stats).toEqual({ packets: 5, lost: 0, duplicates: 0, late: 0, droppedNals: 0, unsupported: 0, accessUnits: 2 });
  });

  it('ends an access unit when the timestamp changes even without a marker', () => {
    const d = new H265Depacketizer();
    expect(d.push(rtp(1, 10, '0201aa'))).toEqual([]);
    const out = d.push(rtp(2, 20, '0201bb'));
    expect(hexNals(out)).toEqual([['0201aa']]);
    expect(hexNals(d.flushPending())).toEqual([['0201bb']]);
  });

  it('reassembles an FU across the sequence wrap at 65535', () => {
    const aus = feed(new H265Depacketizer(), [rtp(65534, 1, '6201 93 01'), rtp(65535, 1, '6201 13 02'), rtp(0, 1, '6201 53 03', true)]);
    expect(hexNals(aus)).toEqual([['2601010203']]);
    expect(aus[0].complete).toBe(true);
  });

  it.each<[string, RtpPacket[], string[][], Partial<H265Depacketizer['stats']>, boolean?]>([
    ['a lost middle fragment', [rtp(1, 1, '4001aa'), rtp(2, 1, '6201 93 01'), rtp(4, 1, '6201 53 03', true)], [['4001aa']], { lost: 1, droppedNals: 1 }],
    ['a lost start fragment', [rtp(1, 1, '4001aa'), rtp(3, 1, '6201 13 02'), rtp(4, 1, '6201 53 03'), rtp(5, 1, '0201bb', true)], [['4001aa', '0201bb']], { lost: 1, droppedNals: 1 }],
    ['an end without start at the beginning', [rtp(7, 1, '6201 53 03'), rtp(8, 1, '0201bb', true)], [['0201bb']], { lost: 0, droppedNals: 1 }],
    ['a start while an FU is open', [rtp(1, 1, '6201 93 01'), rtp(2, 1, '6201 81 aa'), rtp(3, 1, '6201 41 bb', true)], [['0201aabb']], { droppedNals: 1 }],
    ['a single NAL while an FU is open', [rtp(1, 1, '6201 93 01'), rtp(2, 1, '0201bb', true)], [['0201bb']], { droppedNals: 1 }],
    // the unit after the broken one is whole itself; keyFrameNeeded carries the damage
    ['a marker on a middle fragment', [rtp(1, 1, '6201 93 01'), rtp(2, 1, '6201 13 02', true), rtp(3, 2, '0201bb', true)], [['0201bb']], { droppedNals: 1 }, true],
    ['a fragment of another unit', [rtp(1, 1, '6201 93 01'), rtp(2, 1, '6201 41 02', true)], [], { droppedNals: 2 }],
    ['a fragment of another layer', [rtp(1, 1, '6201 93 01'), rtp(2, 1, '6209 53 02', true)], [], { droppedNals: 2 }],
    ['a timestamp change inside an FU', [rtp(1, 1, '6201 93 01'), rtp(2, 2, '6201 53 02', true)], [], { droppedNals: 1 }],
    ['a whole lost access unit', [rtp(1, 1, '2601aa', true), rtp(3, 3, '0201bb', true)], [['2601aa'], ['0201bb']], { lost: 1, droppedNals: 0 }],
    ['a PACI packet', [rtp(1, 1, '4001aa'), rtp(2, 1, '6401 0000 2601aa', true)], [['4001aa']], { unsupported: 1 }],
  ])('drops the damaged unit on %s', (_n, pkts, want, stats, lastComplete = false) => {
    const d = new H265Depacketizer();
    const aus = feed(d, pkts);
    expect(hexNals(aus)).toEqual(want);
    expect(d.stats).toMatchObject(stats);
    expect(d.keyFrameNeeded).toBe(true);
    expect(aus.at(-1)?.complete ?? false).toBe(lastComplete);
  });

  it('ignores duplicates and late packets, treats a far jump back as a restart', () => {
    const d = new H265Depacketizer();
    const aus = feed(d, [
      rtp(10, 1, '6201 93 01'),
      rtp(10, 1, '6201 93 01'),
      rtp(11, 1, '6201 53 02', true),
      rtp(9, 1, '0201ff', true),
      rtp(12, 2, '0201aa', true),
      rtp(5000, 3, '0201bb', true),
      rtp(4000, 4, '0201cc', true),
    ]);
    expect(hexNals(aus)).toEqual([['26010102'], ['0201aa'], ['0201bb'], ['0201cc']]);
    expect(d.stats).toMatchObject({ duplicates: 1, late: 1, lost: 4987 + 1 });
  });

  it.each([
    ['IDR_W_RADL', '2601cc'],
    ['IDR_N_LP', '2801cc'],
    ['CRA', '2a01cc'],
    ['BLA_W_LP', '2001cc'],
  ])('clears keyFrameNeeded after a complete access unit with %s', (_n, irap) => {
    const d = new H265Depacketizer();
    feed(d, [rtp(1, 1, '0201aa', true), rtp(3, 2, '0201bb', true)]);
    expect(d.keyFrameNeeded).toBe(true);
    d.push(rtp(4, 3, '0201cc', true));
    d.push(rtp(5, 4, '2c01cc', true)); // type 22, a reserved IRAP type: not trusted
    expect(d.keyFrameNeeded).toBe(true);
    d.push(rtp(6, 5, `6001 0002 4001 0002 4201 0002 4401 0003 ${irap}`, true));
    expect(d.keyFrameNeeded).toBe(false);
  });

  it('throws MediaError for a malformed payload, counts it as a loss and keeps going', () => {
    const d = new H265Depacketizer();
    d.push(rtp(1, 1, '4001aa'));
    d.push(rtp(2, 1, '6201 93 01'));
    expect(() => d.push(rtp(3, 1, '6601aa'))).toThrow(expect.objectContaining({ code: 'BAD_NAL' }));
    const aus = [...d.push(rtp(4, 1, '6201 53 02')), ...d.push(rtp(5, 1, '0201bb', true))];
    expect(hexNals(aus)).toEqual([['4001aa', '0201bb']]);
    expect(aus[0].complete).toBe(false);
    expect(d.keyFrameNeeded).toBe(true);
  });

  it('drops an FU over maxNalSize and holds no more than the limit', () => {
    const d = new H265Depacketizer({ maxNalSize: 4 * 1024 * 1024 });
    const chunk = Buffer.concat([hex('6201 13'), Buffer.alloc(1000)]);
    d.push(rtp(0, 1, '6201 93 00'));
    let max = 0;
    for (let i = 1; i <= 5000; i++) {
      d.push(rtp(i, 1, chunk));
      max = Math.max(max, d.bufferedBytes);
    }
    expect(max).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(d.bufferedBytes).toBe(0);
    expect(d.push(rtp(5001, 1, '6201 53 00', true))).toEqual([]);
    expect(d.stats.droppedNals).toBeGreaterThanOrEqual(1);
  });

  it('bounds an access unit by size and NAL count', () => {
    const bySize = new H265Depacketizer({ maxAccessUnitSize: 10 });
    expect(hexNals(feed(bySize, [rtp(1, 1, '0201 0102030405'), rtp(2, 1, '0201 0102030405'), rtp(3, 1, '0201aa', true)]))).toEqual([['0201aa']]);
    const byCount = new H265Depacketizer({ maxNalsPerAccessUnit: 2 });
    const aus = feed(byCount, [rtp(1, 1, '6001 0003 0201aa 0003 0201bb 0003 0201cc', true)]);
    expect(aus).toEqual([]);
    expect(byCount.stats.droppedNals).toBe(3);
  });
});

describe('H.265 RTP round trip', () => {
  const SIZES = [2, 3, 4, 50, 97, 98, 99, 100, 101, 102, 103, 498, 499, 500, 501, 502, 503, 1197, 1198, 1199, 1200, 1201, 1202, 1203, 4000, 65535, 65536, 200000];

  function accessUnits(): Buffer[][] {
    const aus: Buffer[][] = [[nal(32, 20), nal(33, 40), nal(34, 6), nal(39, 30, 1), nal(19, 5000)]];
    SIZES.forEach((s, i) => aus.push([nal(i % 3 === 0 ? 21 : 1, s, s + i, i % 5, 1 + (i % 7))]));
    aus.push(SIZES.slice(0, 14).map((s, i) => nal(i % 2, s, i + 7, 0, 2)));
    aus.push([nal(35, 3), nal(32, 12), nal(33, 20), nal(34, 4), nal(20, 200000, 3), nal(20, 100, 4), nal(40, 9), nal(36, 2)]);
    return aus;
  }

  it.each([100, 500, 1200])('MTU %i: packetize, stamp, serialize, parse, depacketize gives the same NAL units', (mtu) => {
    const sent = accessUnits();
    const stamper = new RtpStamper({ ssrc: 0x11223344, payloadType: 98, sequenceNumber: 65530 });
    const d = new H265Depacketizer();
    const got: H265AccessUnit[] = [];
    const seqs: number[] = [];
    sent.forEach((au, i) => {
      const payloads = packetizeH265(au, { mtu });
      expect(payloads.every((p) => p.payload.length <= mtu)).toBe(true);
      expect(payloads.map((p) => p.marker)).toEqual(payloads.map((_p, j) => j === payloads.length - 1));
      const ts = (0xffffff00 + i * 3000) >>> 0;
      for (const bytes of stamper.stamp(payloads, ts)) {
        const pkt = parseRtpPacket(bytes);
        seqs.push(pkt.sequenceNumber);
        expect(pkt.timestamp).toBe(ts);
        got.push(...d.push(pkt));
      }
    });
    expect(seqs).toContain(65535);
    expect(seqs).toContain(0);
    expect(got.map((a) => a.nals.map((n) => n.toString('hex')))).toEqual(sent.map((au) => au.map((n) => n.toString('hex'))));
    expect(got.every((a) => a.complete)).toBe(true);
    expect(got.map((a) => a.timestamp)).toEqual(sent.map((_a, i) => (0xffffff00 + i * 3000) >>> 0));
    expect(d.stats).toMatchObject({ lost: 0, duplicates: 0, late: 0, droppedNals: 0, unsupported: 0, accessUnits: sent.length });
    expect(d.keyFrameNeeded).toBe(false);
    expect(d.bufferedBytes).toBe(0);
  });

  const nalArb = fc.record({
    type: fc.constantFrom(0, 1, 19, 20, 21, 32, 33, 34, 35, 39, 40),
    layerId: fc.integer({ min: 0, max: 63 }),
    tid: fc.integer({ min: 1, max: 7 }),
    size: fc.integer({ min: 2, max: 5000 }),
    seed: fc.nat(),
  });
  const streamArb = fc.array(fc.array(nalArb, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 6 });
  const build = (spec: { type: number; layerId: number; tid: number; size: number; seed: number }[][]) =>
    spec.map((au) => au.map((n) => nal(n.type, n.size, n.seed, n.layerId, n.tid)));

  function packets(aus: Buffer[][], mtu: number, seq: number): Buffer[] {
    const s = new RtpStamper({ ssrc: 7, payloadType: 96, sequenceNumber: seq });
    return aus.flatMap((au, i) => s.stamp(packetizeH265(au, { mtu }), i * 3000));
  }

  it('round-trips any access units at any MTU (property)', () => {
    fc.assert(
      fc.property(streamArb, fc.integer({ min: 4, max: 1500 }), fc.integer({ min: 0, max: 0xffff }), fc.boolean(), (spec, mtu, seq, aggregate) => {
        const aus = build(spec);
        const d = new H265Depacketizer();
        const s = new RtpStamper({ ssrc: 7, payloadType: 96, sequenceNumber: seq });
        const pkts = aus.flatMap((au, i) => s.stamp(packetizeH265(au, { mtu, aggregate }), i * 3000));
        const got = [...pkts.flatMap((b) => d.push(parseRtpPacket(b))), ...d.flushPending()];
        const hex = (nals: Buffer[][]) => nals.map((au) => au.map((n) => n.toString('hex')));
        expect(hex(got.map((a) => a.nals))).toEqual(hex(aus));
      }),
      { numRuns: 200 },
    );
  });

  it('on dropped, duplicated, reordered or bit-flipped packets: only MediaError, bounded memory, only NAL units that were sent (property)', () => {
    const op = fc.record({ kind: fc.constantFrom('drop', 'dup', 'swap', 'move', 'flip'), i: fc.nat(), j: fc.nat(), bit: fc.nat() });
    const limits = { maxNalSize: 3000, maxAccessUnitSize: 6000 };
    fc.assert(
      fc.property(streamArb, fc.constantFrom(100, 500, 1200), fc.integer({ min: 0, max: 0xffff }), fc.array(op, { minLength: 1, maxLength: 10 }), (spec, mtu, seq, ops) => {
        const aus = build(spec);
        const sent = new Set(aus.flat().map((n) => n.toString('hex')));
        const pkts = packets(aus, mtu, seq);
        for (const o of ops) {
          if (pkts.length === 0) break;
          const i = o.i % pkts.length;
          const j = o.j % pkts.length;
          if (o.kind === 'drop') pkts.splice(i, 1);
          else if (o.kind === 'dup') pkts.splice(j, 0, pkts[i]);
          else if (o.kind === 'swap') [pkts[i], pkts[j]] = [pkts[j], pkts[i]];
          else if (o.kind === 'move') pkts.splice(j, 0, ...pkts.splice(i, 1));
          else {
            const b = Buffer.from(pkts[i]);
            const bit = o.bit % (b.length * 8);
            b[bit >> 3] ^= 1 << (bit & 7);
            pkts[i] = b;
          }
        }
        const flipped = ops.some((o) => o.kind === 'flip');
        const d = new H265Depacketizer(limits);
        const got: H265AccessUnit[] = [];
        let maxBuffered = 0;
        for (const b of pkts) {
          try {
            got.push(...d.push(parseRtpPacket(b)));
          } catch (e) {
            if (!(e instanceof MediaError)) throw e;
          }
          maxBuffered = Math.max(maxBuffered, d.bufferedBytes);
        }
        expect(maxBuffered).toBeLessThanOrEqual(limits.maxNalSize + limits.maxAccessUnitSize);
        got.push(...d.flushPending());
        for (const au of got) {
          expect(au.nals.length).toBeGreaterThan(0);
          for (const n of au.nals) expect(n.length).toBeGreaterThanOrEqual(2);
          if (!flipped) for (const n of au.nals) expect(sent.has(n.toString('hex'))).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but MediaError on random payloads (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 20 }), fc.integer({ min: 0, max: 0xffff }), (payloads, seq) => {
        const d = new H265Depacketizer({ maxNalSize: 100, maxAccessUnitSize: 200 });
        payloads.forEach((p, i) => {
          try {
            d.push(rtp(seq + i, i >> 2, Buffer.from(p), (i & 3) === 3));
          } catch (e) {
            if (!(e instanceof MediaError)) throw e;
          }
          expect(d.bufferedBytes).toBeLessThanOrEqual(300);
        });
        d.flushPending();
      }),
      { numRuns: 300 },
    );
  });
});
