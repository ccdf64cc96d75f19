import fc from 'fast-check';
import { MediaError } from '../media.errors';
import {
  buildBye,
  buildFir,
  buildNack,
  buildPli,
  buildReceiverReport,
  buildSdes,
  buildSenderReport,
  concatRtcp,
  parseRtcpCompound,
  RtcpPacket,
  RtcpReportBlock,
  RtpReceiverStats,
  RtpSenderStats,
  rttFromReportBlock,
} from './rtcp';
import { unixMsToNtp } from './rtp-clock';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const badRtcp = expect.objectContaining({ name: 'MediaError', code: 'BAD_RTCP' });
const badArgument = expect.objectContaining({ name: 'MediaError', code: 'BAD_ARGUMENT' });

// a camera's compound: SR without report blocks + SDES CNAME "camera1"
const SR_SDES = '80c80006 12345678 e9b0f7a0 80000000 00015f90 00000064 00002710' + '81ca0004 12345678 0107 63616d65726131 000000';
const RR_ONE_BLOCK = '81c90007 0000abcd  12345678 40 ffffff 00010010 00000020 ccdd1122 00010000';
const PLI = '81ce0002 00000001 12345678';
const FIR = '84ce0004 00000001 00000000 12345678 07000000';
const NACK = '81cd0003 00000001 12345678 1234 0005';
const BYE = '81cb0003 12345678 04 676f6e65 000000';

describe('parseRtcpCompound', () => {
  it('reads a sender report and SDES compound', () => {
    expect(parseRtcpCompound(hex(SR_SDES))).toEqual([
      { type: 'sr', ssrc: 0x12345678, ntpSeconds: 0xe9b0f7a0, ntpFraction: 0x80000000, rtpTimestamp: 90000, packetCount: 100, octetCount: 10000, reports: [] },
      { type: 'sdes', chunks: [{ ssrc: 0x12345678, cname: 'camera1' }] },
    ]);
  });

  it('reads a receiver report block with signed cumulative loss', () => {
    expect(parseRtcpCompound(hex(RR_ONE_BLOCK))).toEqual([
      {
        type: 'rr',
        ssrc: 0xabcd,
        reports: [{ ssrc: 0x12345678, fractionLost: 64, cumulativeLost: -1, highestSeq: 0x10010, jitter: 32, lastSr: 0xccdd1122, delaySinceLastSr: 65536 }],
      },
    ]);
  });

  it('reads PLI, FIR, NACK and BYE', () => {
    expect(parseRtcpCompound(hex(PLI + FIR + NACK + BYE))).toEqual([
      { type: 'pli', senderSsrc: 1, mediaSsrc: 0x12345678 },
      { type: 'fir', senderSsrc: 1, entries: [{ ssrc: 0x12345678, seq: 7 }] },
      { type: 'nack', senderSsrc: 1, mediaSsrc: 0x12345678, lost: [0x1234, 0x1235, 0x1237] },
      { type: 'bye', ssrcs: [0x12345678], reason: 'gone' },
    ]);
  });

  it('expands a NACK bitmask across the sequence wrap', () => {
    const [p] = parseRtcpCompound(hex('81cd0003 00000001 00000002 fffe 8003'));
    expect(p).toEqual({ type: 'nack', senderSsrc: 1, mediaSsrc: 2, lost: [0xfffe, 0xffff, 0, 0xfffe + 16 - 0x10000] });
  });

  it('keeps APP, XR, REMB and TWCC as unknown', () => {
    const remb = '8fce0005 00000001 00000000 52454d42 0101e240 12345678';
    const twcc = '8fcd0002 00000001 00000002';
    const app = '80cc0002 00000001 6e616d65';
    const xr = '80cf0001 00000001';
    const out = parseRtcpCompound(hex(remb + twcc + app + xr));
    expect(out.map((p) => (p.type === 'unknown' ? [p.packetType, p.count, p.body.toString('hex')] : p.type))).toEqual([
      [206, 15, '000000010000000052454d420101e24012345678'],
      [205, 15, '0000000100000002'],
      [204, 0, '000000016e616d65'],
      [207, 0, '00000001'],
    ]);
  });

  it('removes padding of the last packet', () => {
    // a BYE without reason padded by 4 bytes (count in the last byte)
    expect(parseRtcpCompound(hex('a1cb0002 12345678 00000004'))).toEqual([{ type: 'bye', ssrcs: [0x12345678] }]);
  });

  it('tolerates an SDES chunk without its null item at the end of the packet and skips non-CNAME items', () => {
    // chunk: SSRC, NAME "ab" (type 2), CNAME "xy" = 4 + 4 + 4 bytes, no terminator
    expect(parseRtcpCompound(hex('81ca0003 00000009 02026162 01027879'))).toEqual([{ type: 'sdes', chunks: [{ ssrc: 9, cname: 'xy' }] }]);
    expect(parseRtcpCompound(hex('82ca0004 00000001 00000000 00000002 00000000'))).toEqual([{ type: 'sdes', chunks: [{ ssrc: 1 }, { ssrc: 2 }] }]);
  });

  it.each([
    ['empty', ''],
    ['a header cut short', '80c8'],
    ['version 1', '40c90001 00000001'],
    ['version 2 then version 0 later', '80c90001 00000001 00c90001 00000001'],
    ['length past the end', '80c90002 00000001'],
    ['trailing bytes', '80c90001 00000001 80'],
    ['RR with a report block missing', '81c90001 00000001'],
    ['SR too short', '80c80001 00000001'],
    ['padding of 0', 'a0c90001 00000000'],
    ['padding longer than the body', 'a0c90001 00000009'],
    ['SDES item past the end', '81ca0002 00000001 0109aaaa'],
    ['SDES with a missing chunk', '82ca0002 00000001 00000000'],
    ['BYE reason past the end', '81cb0002 00000001 09aaaaaa'],
    ['BYE with fewer sources than its count', '82cb0001 00000001'],
    ['PLI without media SSRC', '81ce0001 00000001'],
    ['NACK without media SSRC', '81cd0001 00000001'],
    ['FIR with half an entry', '84ce0003 00000001 00000000 00000002'],
    ['a bad packet after a good one', `${PLI}81c90001`],
  ])('rejects %s', (_n, h) => {
    expect(() => parseRtcpCompound(hex(h))).toThrow(badRtcp);
  });

  it('random and mutated datagrams only return or throw MediaError', () => {
    const valid = hex(SR_SDES + RR_ONE_BLOCK + PLI + FIR + NACK + BYE);
    const tryParse = (b: Buffer) => {
      try {
        parseRtcpCompound(b);
      } catch (e) {
        if (!(e instanceof MediaError)) throw e;
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => tryParse(Buffer.from(b))), { numRuns: 500 });
    // random bodies behind a valid-looking header, every type
    fc.assert(
      fc.property(fc.nat(31), fc.integer({ min: 192, max: 210 }), fc.boolean(), fc.uint8Array({ maxLength: 120 }), (count, pt, padding, body) => {
        const words = Math.floor(body.length / 4);
        const b = Buffer.concat([Buffer.from([0x80 | (padding ? 0x20 : 0) | count, pt, 0, words]), Buffer.from(body.subarray(0, words * 4))]);
        tryParse(b);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.nat(255)), { minLength: 1, maxLength: 6 }), fc.nat(valid.length), (flips, cut) => {
        const b = Buffer.from(valid);
        for (const [at, v] of flips) b[at] = v;
        tryParse(b.subarray(0, cut));
        tryParse(b);
      }),
      { numRuns: 500 },
    );
  });
});

describe('RTCP builders', () => {
  const block: RtcpReportBlock = { ssrc: 0x12345678, fractionLost: 64, cumulativeLost: -1, highestSeq: 0x10010, jitter: 32, lastSr: 0xccdd1122, delaySinceLastSr: 65536 };

  it('build the byte layouts of the parser vectors', () => {
    expect(buildSenderReport({ ssrc: 0x12345678, ntpSeconds: 0xe9b0f7a0, ntpFraction: 0x80000000, rtpTimestamp: 90000, packetCount: 100, octetCount: 10000 }).toString('hex') + buildSdes(0x12345678, 'camera1').toString('hex')).toBe(
      hex(SR_SDES).toString('hex'),
    );
    expect(buildReceiverReport({ ssrc: 0xabcd, reports: [block] }).toString('hex')).toBe(hex(RR_ONE_BLOCK).toString('hex'));
    expect(buildPli(1, 0x12345678).toString('hex')).toBe(hex(PLI).toString('hex'));
    expect(buildFir(1, 0x12345678, 7).toString('hex')).toBe(hex(FIR).toString('hex'));
    expect(buildNack(1, 0x12345678, [0x1237, 0x1234, 0x1235]).toString('hex')).toBe(hex(NACK).toString('hex'));
    expect(buildBye([0x12345678], 'gone').toString('hex')).toBe(hex(BYE).toString('hex'));
    expect(concatRtcp([buildPli(1, 0x12345678), buildFir(1, 0x12345678, 7)]).toString('hex')).toBe(hex(PLI + FIR).toString('hex'));
  });

  it('wrap counts, saturate cumulative loss, take FIR seq modulo 256', () => {
    const [sr] = parseRtcpCompound(buildSenderReport({ ssrc: 1, ntpSeconds: 0, ntpFraction: 0, rtpTimestamp: 0, packetCount: 2 ** 32 + 5, octetCount: 2 ** 40 + 7, reports: [{ ...block, cumulativeLost: 1e9 }] }));
    expect(sr).toMatchObject({ packetCount: 5, octetCount: 7, reports: [{ cumulativeLost: 0x7fffff }] });
    const [rr] = parseRtcpCompound(buildReceiverReport({ ssrc: 1, reports: [{ ...block, cumulativeLost: -1e9 }] }));
    expect(rr).toMatchObject({ reports: [{ cumulativeLost: -0x800000 }] });
    expect(parseRtcpCompound(buildFir(1, 2, 257))).toEqual([{ type: 'fir', senderSsrc: 1, entries: [{ ssrc: 2, seq: 1 }] }]);
  });

  it('write an empty receiver report, a BYE without reason, and pad SDES to 32 bits', () => {
    expect(buildReceiverReport({ ssrc: 7, reports: [] }).toString('hex')).toBe('80c9000100000007');
    expect(buildBye([1, 2]).toString('hex')).toBe('82cb00020000000100000002');
    for (let n = 0; n < 8; n++) {
      const b = buildSdes(3, 'x'.repeat(n));
      expect(b.length % 4).toBe(0);
      expect(parseRtcpCompound(b)).toEqual([{ type: 'sdes', chunks: [{ ssrc: 3, cname: 'x'.repeat(n) }] }]);
    }
  });

  it('NACK entries group runs across the wrap', () => {
    const b = buildNack(1, 2, [0xfffe, 0xffff, 0, 14, 15, 100]);
    // 0xfffe + bits for 0xffff, 0 (d=1,2), 14 (d=16), then 15 starts a new entry with 100 as a third one
    expect(b.subarray(12).toString('hex')).toBe('fffe 8003 000f 0000 0064 0000'.replace(/ /g, ''));
    expect((parseRtcpCompound(b)[0] as { lost: number[] }).lost).toEqual([0xfffe, 0xffff, 0, 14, 15, 100]);
  });

  it.each<[string, () => Buffer]>([
    ['32 report blocks', () => buildReceiverReport({ ssrc: 1, reports: new Array(32).fill(block) })],
    ['an SSRC over 32 bits', () => buildPli(1, 2 ** 32)],
    ['a negative SSRC', () => buildSenderReport({ ssrc: -1, ntpSeconds: 0, ntpFraction: 0, rtpTimestamp: 0, packetCount: 0, octetCount: 0 })],
    ['fraction lost 256', () => buildReceiverReport({ ssrc: 1, reports: [{ ...block, fractionLost: 256 }] })],
    ['a CNAME of 256 bytes', () => buildSdes(1, 'x'.repeat(256))],
    ['a reason of 256 bytes', () => buildBye([1], 'x'.repeat(256))],
    ['32 BYE sources', () => buildBye(new Array(32).fill(1))],
    ['an empty NACK', () => buildNack(1, 2, [])],
    ['a NACK sequence number of 65536', () => buildNack(1, 2, [65536])],
    ['a negative packet count', () => buildSenderReport({ ssrc: 1, ntpSeconds: 0, ntpFraction: 0, rtpTimestamp: 0, packetCount: -1, octetCount: 0 })],
  ])('reject %s', (_n, build) => {
    expect(build).toThrow(badArgument);
  });

  it('round trip generated packets', () => {
    const u32 = fc.nat({ max: 0xffffffff });
    const reportBlock = fc.record({ ssrc: u32, fractionLost: fc.nat(255), cumulativeLost: fc.integer({ min: -0x800000, max: 0x7fffff }), highestSeq: u32, jitter: u32, lastSr: u32, delaySinceLastSr: u32 });
    const reports = fc.array(reportBlock, { maxLength: 31 });
    const pair = (b: Buffer, p: RtcpPacket): [Buffer, RtcpPacket] => [b, p];
    const packet: fc.Arbitrary<[Buffer, RtcpPacket]> = fc.oneof(
      fc.record({ ssrc: u32, ntpSeconds: u32, ntpFraction: u32, rtpTimestamp: u32, packetCount: u32, octetCount: u32, reports }).map((f) => pair(buildSenderReport(f), { type: 'sr', ...f })),
      fc.record({ ssrc: u32, reports }).map((f) => pair(buildReceiverReport(f), { type: 'rr', ...f })),
      fc.tuple(u32, fc.string({ maxLength: 60 })).map(([ssrc, cname]) => pair(buildSdes(ssrc, cname), { type: 'sdes', chunks: [{ ssrc, cname }] })),
      fc.tuple(fc.array(u32, { maxLength: 31 }), fc.option(fc.string({ minLength: 1, maxLength: 60 }), { nil: undefined })).map(([ssrcs, reason]) =>
        pair(buildBye(ssrcs, reason), reason === undefined ? { type: 'bye', ssrcs } : { type: 'bye', ssrcs, reason }),
      ),
      fc.tuple(u32, u32).map(([s, m]) => pair(buildPli(s, m), { type: 'pli', senderSsrc: s, mediaSsrc: m })),
      fc.tuple(u32, u32, fc.nat(255)).map(([s, m, seq]) => pair(buildFir(s, m, seq), { type: 'fir', senderSsrc: s, entries: [{ ssrc: m, seq }] })),
    );
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 5 }), (pkts) => {
        const parsed = parseRtcpCompound(concatRtcp(pkts.map((p) => p[0])));
        expect(parsed).toEqual(pkts.map((p) => p[1]));
      }),
      { numRuns: 300 },
    );
  });

  it('NACK round trips any set of lost numbers within half the sequence space', () => {
    fc.assert(
      fc.property(fc.nat(0xffff), fc.uniqueArray(fc.nat(2000), { minLength: 1, maxLength: 200 }), (start, offsets) => {
        // offsets in random order; the NACK lists them in sequence order
        const lost = offsets.map((o) => (start + o) & 0xffff);
        const [p] = parseRtcpCompound(buildNack(1, 2, lost));
        const sorted = [...offsets].sort((a, b) => a - b);
        expect(p).toEqual({ type: 'nack', senderSsrc: 1, mediaSsrc: 2, lost: sorted.map((o) => (start + o) & 0xffff) });
      }),
      { numRuns: 300 },
    );
  });
});

describe('RtpReceiverStats', () => {
  const pkt = (seq: number, timestamp = seq * 3000) => ({ sequenceNumber: seq & 0xffff, timestamp: timestamp >>> 0 });

  it('reports nothing before the first packet', () => {
    expect(new RtpReceiverStats(5, 90000).reportBlock(0)).toEqual({ ssrc: 5, fractionLost: 0, cumulativeLost: 0, highestSeq: 0, jitter: 0, lastSr: 0, delaySinceLastSr: 0 });
  });

  it('counts loss per interval and in total (RFC 3550 A.3)', () => {
    const s = new RtpReceiverStats(5, 90000);
    for (let seq = 1000; seq < 1100; seq++) if (seq % 10 !== 3) s.onPacket(pkt(seq), seq);
    let b = s.reportBlock(2000);
    expect(b).toMatchObject({ ssrc: 5, highestSeq: 1099, cumulativeLost: 10, fractionLost: Math.floor((10 * 256) / 100) });
    for (let seq = 1100; seq < 1200; seq++) s.onPacket(pkt(seq), seq);
    b = s.reportBlock(3000);
    expect(b).toMatchObject({ highestSeq: 1199, cumulativeLost: 10, fractionLost: 0 });
    expect(s.packetsReceived).toBe(190);
    // an interval with only 2 of 4 received
    s.onPacket(pkt(1201), 0);
    s.onPacket(pkt(1203), 0);
    expect(s.reportBlock(4000)).toMatchObject({ cumulativeLost: 12, fractionLost: 128 });
  });

  it('extends the highest sequence number across the wrap', () => {
    const s = new RtpReceiverStats(5, 90000);
    for (let seq = 65530; seq < 65546; seq++) s.onPacket(pkt(seq), 0);
    expect(s.reportBlock(0)).toMatchObject({ highestSeq: 65545, cumulativeLost: 0 });
    // late packet from before the wrap changes nothing but the count
    s.onPacket(pkt(65534), 0);
    expect(s.reportBlock(0)).toMatchObject({ highestSeq: 65545, cumulativeLost: -1, fractionLost: 0 });
  });

  it('counts duplicates as received, making loss negative', () => {
    const s = new RtpReceiverStats(5, 8000);
    for (const seq of [1, 2, 2, 3, 3, 3]) s.onPacket(pkt(seq), 0);
    expect(s.reportBlock(0)).toMatchObject({ cumulativeLost: -3, fractionLost: 0, highestSeq: 3 });
    expect(s.cumulativeLost).toBe(-3);
  });

  it('ignores one stray far packet and restarts on two sequential ones (RFC 3550 A.1)', () => {
    const s = new RtpReceiverStats(5, 8000);
    for (let seq = 100; seq < 110; seq++) s.onPacket(pkt(seq), 0);
    expect(s.onPacket(pkt(40000), 0)).toBe(false);
    expect(s.onPacket(pkt(110), 0)).toBe(true);
    expect(s.reportBlock(0)).toMatchObject({ highestSeq: 110, cumulativeLost: 0 });
    expect(s.onPacket(pkt(50000), 0)).toBe(false);
    expect(s.onPacket(pkt(50001), 0)).toBe(true);
    s.onPacket(pkt(50003), 0);
    expect(s.reportBlock(0)).toMatchObject({ highestSeq: 50003, cumulativeLost: 1 });
  });

  it('measures interarrival jitter in timestamp units (RFC 3550 A.8)', () => {
    const steady = new RtpReceiverStats(5, 8000);
    for (let i = 0; i < 100; i++) steady.onPacket(pkt(i, 0xffffff00 + i * 160), 1e12 + i * 20);
    expect(steady.reportBlock(0).jitter).toBe(0);

    // every other packet 5 ms late: |D| = 40 units each time, J converges to 40
    const bumpy = new RtpReceiverStats(5, 8000);
    for (let i = 0; i < 300; i++) bumpy.onPacket(pkt(i, 0xffffff00 + i * 160), 1e12 + i * 20 + (i % 2) * 5);
    expect(bumpy.reportBlock(0).jitter).toBe(39);
    expect(bumpy.jitterMs).toBeCloseTo(5, 1);
  });

  it('gives LSR and DLSR from the last sender report', () => {
    const s = new RtpReceiverStats(5, 90000);
    s.onPacket(pkt(1), 0);
    s.onSenderReport({ ntpSeconds: 0xaabbccdd, ntpFraction: 0x11223344 }, 10_000);
    expect(s.reportBlock(11_000)).toMatchObject({ lastSr: 0xccdd1122, delaySinceLastSr: 65536 });
    expect(s.reportBlock(10_250)).toMatchObject({ delaySinceLastSr: 16384 });
  });
});

describe('RtpSenderStats and round trip time', () => {
  it('fills sender report fields that build and parse', () => {
    const s = new RtpSenderStats();
    for (let i = 0; i < 10; i++) s.onPacket(1000);
    const now = Date.UTC(2024, 0, 1) + 500;
    const fields = s.senderReport(0x11, now, 123456);
    expect(fields).toEqual({ ssrc: 0x11, ntpSeconds: 3913056000, ntpFraction: 0x80000000, rtpTimestamp: 123456, packetCount: 10, octetCount: 10000, reports: [] });
    expect(parseRtcpCompound(buildSenderReport(fields))).toEqual([{ type: 'sr', ...fields }]);
  });

  it('measures RTT = A - LSR - DLSR through a receiver', () => {
    const t0 = Date.UTC(2024, 0, 1, 10);
    const sender = new RtpSenderStats();
    const receiver = new RtpReceiverStats(0x11, 90000);
    receiver.onPacket({ sequenceNumber: 1, timestamp: 0 }, t0);
    const sr = sender.senderReport(0x11, t0, 0);
    receiver.onSenderReport(sr, t0 + 20); // 20 ms one way
    const block = receiver.reportBlock(t0 + 520); // held 500 ms
    const rtt = sender.rttFromReportBlock(block, t0 + 540); // 20 ms back
    expect(rtt).toBeCloseTo(40, 1);
    expect(sender.lastRttMs).toBe(rtt);
  });

  it('ignores blocks without LSR, about another report, or giving a negative RTT', () => {
    const t0 = Date.UTC(2024, 0, 1, 10);
    const sender = new RtpSenderStats();
    sender.senderReport(1, t0, 0);
    const ntp = unixMsToNtp(t0);
    const lsr = ((ntp.seconds & 0xffff) * 65536 + (ntp.fraction >>> 16)) >>> 0;
    expect(sender.rttFromReportBlock({ lastSr: 0, delaySinceLastSr: 0 }, t0 + 10)).toBeUndefined();
    expect(sender.rttFromReportBlock({ lastSr: (lsr + 1) >>> 0, delaySinceLastSr: 0 }, t0 + 10)).toBeUndefined();
    expect(sender.rttFromReportBlock({ lastSr: lsr, delaySinceLastSr: 65536 }, t0 + 10)).toBeUndefined();
    expect(sender.rttFromReportBlock({ lastSr: lsr, delaySinceLastSr: 0 }, t0 + 1000)).toBeCloseTo(1000, 1);
    expect(rttFromReportBlock({ lastSr: lsr, delaySinceLastSr: 6554 }, t0 + 150)).toBeCloseTo(50, 0);
  });
});
