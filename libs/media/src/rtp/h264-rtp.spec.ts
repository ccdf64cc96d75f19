import fc from 'fast-check';
import { MediaError } from '../media.errors';
import { H264AccessUnit, H264Depacketizer, packetizeH264, parseH264RtpPayload } from './h264-rtp';
import { parseRtpPacket, RtpPacket, RtpStamper } from './rtp-packet';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A NAL unit of `size` bytes: header (F=0, nri, type) then deterministic pseudo-random bytes. */
function nal(type: number, size: number, seed = size, nri = 3): Buffer {
  const b = Buffer.allocUnsafe(size);
  b[0] = (nri << 5) | type;
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 1; i < size; i++) {
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

function feed(d: H264Depacketizer, pkts: RtpPacket[]): H264AccessUnit[] {
  return [...pkts.flatMap((p) => d.push(p)), ...d.flushPending()];
}

const hexNals = (aus: H264AccessUnit[]) => aus.map((a) => a.nals.map((n) => n.toString('hex')));

describe('packetizeH264', () => {
  it.each<[string, string[], number, string[]]>([
    ['SPS+PPS+IDR in one STAP-A', ['6742001f', '68ce3c80', '6588'], 1200, ['78 0004 6742001f 0004 68ce3c80 0002 6588']],
    ['STAP-A NRI is the largest', ['0605', '419a'], 1200, ['58 0002 0605 0002 419a']],
    ['FU-A in equal fragments', ['65 0102030405060708090a'], 6, ['7c85 01020304', '7c05 05060708', '7c45 090a']],
    ['FU-A keeps NRI and type', ['21 aabbcc'], 3, ['3c81 aa', '3c01 bb', '3c41 cc']],
    ['a unit of exactly the MTU goes alone', ['41 0102', '41 0304'], 3, ['410102', '410304']],
    ['a group that outgrows the MTU is split', ['410102', '410304', '410506'], 11, ['58 0003 410102 0003 410304', '410506']],
    ['small units around a large one', ['67aa', '65 0102030405', '06bb'], 5, ['67aa', '7c85 010203', '7c45 0405', '06bb']],
    ['empty and RTP-only types are skipped', ['', '00aa', '78aa', '7f00', '41aa'], 1200, ['41aa']],
  ])('%s', (_n, nals, mtu, want) => {
    const out = packetizeH264(nals.map(hex), { mtu });
    expect(out.map((p) => p.payload.toString('hex'))).toEqual(want.map((w) => hex(w).toString('hex')));
    expect(out.map((p) => p.marker)).toEqual(want.map((_w, i) => i === want.length - 1));
    expect(out.every((p) => p.payload.length <= mtu)).toBe(true);
  });

  it('sends single NAL packets without STAP-A when asked', () => {
    const out = packetizeH264([hex('67aa'), hex('68bb')], { stapA: false });
    expect(out.map((p) => p.payload.toString('hex'))).toEqual(['67aa', '68bb']);
  });

  it('gives nothing for an empty access unit', () => {
    expect(packetizeH264([])).toEqual([]);
  });

  it.each([0, 2, 2.5, NaN])('rejects MTU %d', (mtu) => {
    expect(() => packetizeH264([hex('41aa')], { mtu })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});

describe('parseH264RtpPayload', () => {
  it.each([
    ['empty', ''],
    ['NAL type 0', '00aa'],
    ['STAP-B', '19000241aa'],
    ['MTAP16', '1a00'],
    ['MTAP24', '1b00'],
    ['FU-B', '1d8541aa'],
    ['type 30', '1eaa'],
    ['type 31', '1faa'],
    ['STAP-A size past the end', '78 0005 6742'],
    ['STAP-A half a size', '78 0002 41aa 00'],
    ['STAP-A unit of size 0', '78 0000'],
    ['STAP-A without units', '78'],
    ['FU-A without data', '7c85'],
    ['FU-A with S and E', '7cc5 00'],
    ['FU-A of type 0', '7c80 00'],
    ['FU-A of type 28', '7c9c 00'],
  ])('rejects %s with BAD_NAL', (_n, h) => {
    expect(() => parseH264RtpPayload(hex(h))).toThrow(expect.objectContaining({ code: 'BAD_NAL' }));
  });

  it('reads the FU-A header', () => {
    expect(parseH264RtpPayload(hex('5c46 aabb'))).toEqual({ kind: 'fu-a', start: false, end: true, header: 0x46, data: hex('aabb') });
  });
});

describe('H264Depacketizer', () => {
  it('rebuilds single NAL, STAP-A and FU-A units into access units', () => {
    const d = new H264Depacketizer();
    const aus = feed(d, [
      rtp(1, 3000, '78 0004 6742001f 0004 68ce3c80'),
      rtp(2, 3000, '7c85 0102'),
      rtp(3, 3000, '7c05 0304'),
      rtp(4, 3000, '7c45 05', true),
      rtp(5, 6000, '41aa', true),
    ]);
    expect(hexNals(aus)).toEqual([['6742001f', '68ce3c80', '650102030405'], ['41aa']]);
    expect(aus.map((a) => [a.timestamp, a.complete])).toEqual([
      [3000, true],
      [6000, true],
    ]);
    expect(d.keyFrameNeeded).toBe(false);
    expect(d.stats).toEqual({ packets: 5, lost: 0, duplicates: 0, late: 0, droppedNals: 0, accessUnits: 2 });
  });

  it('ends an access unit when the timestamp changes even without a marker', () => {
    const d = new H264Depacketizer();
    expect(d.push(rtp(1, 10, '41aa'))).toEqual([]);
    const out = d.push(rtp(2, 20, '41bb'));
    expect(hexNals(out)).toEqual([['41aa']]);
    expect(hexNals(d.flushPending())).toEqual([['41bb']]);
  });

  it('reassembles a FU-A across the sequence wrap at 65535', () => {
    const aus = feed(new H264Depacketizer(), [rtp(65534, 1, '7c85 01'), rtp(65535, 1, '7c05 02'), rtp(0, 1, '7c45 03', true)]);
    expect(hexNals(aus)).toEqual([['65010203']]);
    expect(aus[0].complete).toBe(true);
  });

  it.each<[string, RtpPacket[], string[][], Partial<H264Depacketizer['stats']>, boolean?]>([
    ['a lost middle fragment', [rtp(1, 1, '67aa'), rtp(2, 1, '7c85 01'), rtp(4, 1, '7c45 03', true)], [['67aa']], { lost: 1, droppedNals: 1 }],
    ['a lost start fragment', [rtp(1, 1, '67aa'), rtp(3, 1, '7c05 02'), rtp(4, 1, '7c45 03'), rtp(5, 1, '41bb', true)], [['67aa', '41bb']], { lost: 1, droppedNals: 1 }],
    ['an end without start at the beginning', [rtp(7, 1, '7c45 03'), rtp(8, 1, '41bb', true)], [['41bb']], { lost: 0, droppedNals: 1 }],
    ['a start while a FU is open', [rtp(1, 1, '7c85 01'), rtp(2, 1, '7c81 aa'), rtp(3, 1, '7c41 bb', true)], [['61aabb']], { droppedNals: 1 }],
    ['a single NAL while a FU is open', [rtp(1, 1, '7c85 01'), rtp(2, 1, '41bb', true)], [['41bb']], { droppedNals: 1 }],
    // the unit after the broken one is whole itself; keyFrameNeeded carries the damage
    ['a marker on a middle fragment', [rtp(1, 1, '7c85 01'), rtp(2, 1, '7c05 02', true), rtp(3, 2, '41bb', true)], [['41bb']], { droppedNals: 1 }, true],
    ['a fragment of another unit', [rtp(1, 1, '7c85 01'), rtp(2, 1, '7c41 02', true)], [], { droppedNals: 2 }],
    ['a timestamp change inside a FU', [rtp(1, 1, '7c85 01'), rtp(2, 2, '7c45 02', true)], [], { droppedNals: 1 }],
    ['a whole lost access unit', [rtp(1, 1, '65aa', true), rtp(3, 3, '41bb', true)], [['65aa'], ['41bb']], { lost: 1, droppedNals: 0 }],
  ])('drops the damaged unit on %s', (_n, pkts, want, stats, lastComplete = false) => {
    const d = new H264Depacketizer();
    const aus = feed(d, pkts);
    expect(hexNals(aus)).toEqual(want);
    expect(d.stats).toMatchObject(stats);
    expect(d.keyFrameNeeded).toBe(true);
    expect(aus.at(-1)?.complete ?? false).toBe(lastComplete);
  });

  it('ignores duplicates and late packets, treats a far jump back as a restart', () => {
    const d = new H264Depacketizer();
    const aus = feed(d, [
      rtp(10, 1, '7c85 01'),
      rtp(10, 1, '7c85 01'),
      rtp(11, 1, '7c45 02', true),
      rtp(9, 1, '41ff', true),
      rtp(12, 2, '41aa', true),
      rtp(5000, 3, '41bb', true),
      rtp(4000, 4, '41cc', true),
    ]);
    expect(hexNals(aus)).toEqual([['650102'], ['41aa'], ['41bb'], ['41cc']]);
    expect(d.stats).toMatchObject({ duplicates: 1, late: 1, lost: 4987 + 1 });
  });

  it('clears keyFrameNeeded after a complete IDR access unit', () => {
    const d = new H264Depacketizer();
    feed(d, [rtp(1, 1, '41aa', true), rtp(3, 2, '41bb', true)]);
    expect(d.keyFrameNeeded).toBe(true);
    d.push(rtp(4, 3, '41cc', true));
    expect(d.keyFrameNeeded).toBe(true);
    d.push(rtp(5, 4, '78 0002 67aa 0002 68bb 0002 65cc', true));
    expect(d.keyFrameNeeded).toBe(false);
  });

  it('throws MediaError for a malformed payload, counts it as a loss and keeps going', () => {
    const d = new H264Depacketizer();
    d.push(rtp(1, 1, '67aa'));
    d.push(rtp(2, 1, '7c85 01'));
    expect(() => d.push(rtp(3, 1, '1eaa'))).toThrow(expect.objectContaining({ code: 'BAD_NAL' }));
    const aus = [...d.push(rtp(4, 1, '7c45 02')), ...d.push(rtp(5, 1, '41bb', true))];
    expect(hexNals(aus)).toEqual([['67aa', '41bb']]);
    expect(aus[0].complete).toBe(false);
    expect(d.keyFrameNeeded).toBe(true);
  });

  it('drops a FU-A over maxNalSize and holds no more than the limit', () => {
    const d = new H264Depacketizer({ maxNalSize: 4 * 1024 * 1024 });
    const chunk = Buffer.concat([hex('7c05'), Buffer.alloc(1000)]);
    d.push(rtp(0, 1, '7c85 00'));
    let max = 0;
    for (let i = 1; i <= 5000; i++) {
      d.push(rtp(i, 1, chunk));
      max = Math.max(max, d.bufferedBytes);
    }
    expect(max).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(d.bufferedBytes).toBe(0);
    expect(d.push(rtp(5001, 1, '7c45 00', true))).toEqual([]);
    expect(d.stats.droppedNals).toBeGreaterThanOrEqual(1);
  });

  it('bounds an access unit by size and NAL count', () => {
    const bySize = new H264Depacketizer({ maxAccessUnitSize: 10 });
    expect(hexNals(feed(bySize, [rtp(1, 1, '41 0102030405'), rtp(2, 1, '41 0102030405'), rtp(3, 1, '41aa', true)]))).toEqual([['41aa']]);
    const byCount = new H264Depacketizer({ maxNalsPerAccessUnit: 2 });
    const aus = feed(byCount, [rtp(1, 1, '78 0002 41aa 0002 41bb 0002 41cc', true)]);
    expect(aus).toEqual([]);
    expect(byCount.stats.droppedNals).toBe(3);
  });
});

describe('H.264 RTP round trip', () => {
  const SIZES = [1, 2, 3, 50, 97, 98, 99, 100, 101, 102, 498, 499, 500, 501, 502, 1197, 1198, 1199, 1200, 1201, 1202, 4000, 65535, 65536, 200000];

  function accessUnits(): Buffer[][] {
    const aus: Buffer[][] = [[nal(7, 20), nal(8, 4), nal(6, 30, 1, 0), nal(5, 5000)]];
    SIZES.forEach((s, i) => aus.push([nal(i % 3 === 0 ? 5 : 1, s, s + i, i % 4)]));
    aus.push(SIZES.slice(0, 12).map((s, i) => nal(1, s, i + 7, 2)));
    aus.push([nal(9, 2), nal(7, 12), nal(8, 4), nal(5, 200000, 3), nal(5, 100, 4), nal(12, 1)]);
    return aus;
  }

  it.each([100, 500, 1200])('MTU %i: packetize, stamp, serialize, parse, depacketize gives the same NAL units', (mtu) => {
    const sent = accessUnits();
    const stamper = new RtpStamper({ ssrc: 0x11223344, payloadType: 102, sequenceNumber: 65530 });
    const d = new H264Depacketizer();
    const got: H264AccessUnit[] = [];
    const seqs: number[] = [];
    sent.forEach((au, i) => {
      const payloads = packetizeH264(au, { mtu });
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
    expect(d.stats).toMatchObject({ lost: 0, duplicates: 0, late: 0, droppedNals: 0, accessUnits: sent.length });
    expect(d.keyFrameNeeded).toBe(false);
    expect(d.bufferedBytes).toBe(0);
  });

  const nalArb = fc.record({ type: fc.constantFrom(1, 5, 6, 7, 8, 9), nri: fc.integer({ min: 0, max: 3 }), size: fc.integer({ min: 1, max: 5000 }), seed: fc.nat() });
  const streamArb = fc.array(fc.array(nalArb, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 6 });
  const build = (spec: { type: number; nri: number; size: number; seed: number }[][]) => spec.map((au) => au.map((n) => nal(n.type, n.size, n.seed, n.nri)));

  function packets(aus: Buffer[][], mtu: number, seq: number): Buffer[] {
    const s = new RtpStamper({ ssrc: 7, payloadType: 96, sequenceNumber: seq });
    return aus.flatMap((au, i) => s.stamp(packetizeH264(au, { mtu }), i * 3000));
  }

  it('round-trips any access units at any MTU (property)', () => {
    fc.assert(
      fc.property(streamArb, fc.integer({ min: 3, max: 1500 }), fc.integer({ min: 0, max: 0xffff }), (spec, mtu, seq) => {
        const aus = build(spec);
        const d = new H264Depacketizer();
        const got = [...packets(aus, mtu, seq).flatMap((b) => d.push(parseRtpPacket(b))), ...d.flushPending()];
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
        const d = new H264Depacketizer(limits);
        const got: H264AccessUnit[] = [];
        for (const b of pkts) {
          try {
            got.push(...d.push(parseRtpPacket(b)));
          } catch (e) {
            if (!(e instanceof MediaError)) throw e;
          }
          expect(d.bufferedBytes).toBeLessThanOrEqual(limits.maxNalSize + limits.maxAccessUnitSize);
        }
        got.push(...d.flushPending());
        for (const au of got) {
          expect(au.nals.length).toBeGreaterThan(0);
          if (!flipped) for (const n of au.nals) expect(sent.has(n.toString('hex'))).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
