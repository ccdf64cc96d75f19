import fc from 'fast-check';
import { MediaError } from '../media.errors';
import {
  buildOneByteExtension,
  findRtpHeaderExtension,
  parseRtpPacket,
  readRtpHeaderExtensions,
  RtpPacket,
  rtpPacketSize,
  rtpSeqDiff,
  RtpStamper,
  rtpTimestampFromMs,
  serializeRtpPacket,
  writeRtpPacket,
} from './rtp-packet';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// marker, PT 96, seq 0x1234, ts 100, SSRC deadbeef, payload aabb
const SIMPLE = '80e0 1234 00000064 deadbeef aabb';
// P+X, 2 CSRCs, PT 96 no marker, one-byte extension {id 1: ff}, payload 0102, 3 padding bytes
const FULL = 'b2 60 0001 00000001 00000002  00000003 00000004  bede 0001 10ff0000  0102  000003';

describe('parseRtpPacket', () => {
  it('reads a plain packet', () => {
    const p = parseRtpPacket(hex(SIMPLE));
    expect(p).toEqual({
      marker: true,
      payloadType: 96,
      sequenceNumber: 0x1234,
      timestamp: 100,
      ssrc: 0xdeadbeef,
      csrcs: [],
      extension: undefined,
      payload: hex('aabb'),
      paddingSize: 0,
    });
  });

  it('reads CSRCs, the extension and padding', () => {
    const p = parseRtpPacket(hex(FULL));
    expect(p.marker).toBe(false);
    expect(p.csrcs).toEqual([3, 4]);
    expect(p.extension?.profile).toBe(0xbede);
    expect(p.extension?.data.toString('hex')).toBe('10ff0000');
    expect(p.payload.toString('hex')).toBe('0102');
    expect(p.paddingSize).toBe(3);
    expect(readRtpHeaderExtensions(p.extension!)).toEqual([{ id: 1, data: hex('ff') }]);
    expect(findRtpHeaderExtension(p.extension, 1)).toEqual(hex('ff'));
    expect(findRtpHeaderExtension(p.extension, 2)).toBeUndefined();
  });

  it('allows an empty payload and padding that fills the rest', () => {
    expect(parseRtpPacket(hex('a0600001 00000001 00000002 0000 0004')).payload.length).toBe(0);
  });

  it.each([
    ['empty', '', 'TRUNCATED'],
    ['11 bytes', '80e0123400000064deadbe', 'TRUNCATED'],
    ['version 1', '40e0 1234 00000064 deadbeef', 'UNSUPPORTED'],
    ['version 0', '00e0 1234 00000064 deadbeef', 'UNSUPPORTED'],
    ['CSRCs past the end', '82e0 1234 00000064 deadbeef 00000001', 'TRUNCATED'],
    ['extension header past the end', '90e0 1234 00000064 deadbeef bede', 'TRUNCATED'],
    ['extension data past the end', '90e0 1234 00000064 deadbeef bede0002 10ff0000', 'TRUNCATED'],
    ['padding bit without bytes', 'a0e0 1234 00000064 deadbeef', 'TRUNCATED'],
    ['padding count 0', 'a0e0 1234 00000064 deadbeef aa00', 'UNSUPPORTED'],
    ['padding longer than the packet', 'a0e0 1234 00000064 deadbeef aa03', 'TRUNCATED'],
  ])('rejects %s', (_n, h, code) => {
    expect(() => parseRtpPacket(hex(h))).toThrow(MediaError);
    expect(() => parseRtpPacket(hex(h))).toThrow(expect.objectContaining({ code }));
  });

  it('only returns a packet or throws MediaError on random or mutated input (property)', () => {
    const mutated = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map((edits) => {
      const b = hex(FULL);
      for (const [i, v] of edits) b[i % b.length] = v;
      return b;
    });
    const random = fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a));
    const versioned = random.map((b) => (b.length > 0 ? Buffer.concat([Buffer.of(0x80 | (b[0] & 0x3f)), b.subarray(1)]) : b));
    fc.assert(
      fc.property(fc.oneof(mutated, random, versioned), (b) => {
        try {
          const p = parseRtpPacket(b);
          expect(rtpPacketSize(p)).toBe(b.length);
        } catch (e) {
          if (!(e instanceof MediaError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('serializeRtpPacket', () => {
  it.each([SIMPLE, FULL])('writes back the same bytes: %s', (h) => {
    expect(serializeRtpPacket(parseRtpPacket(hex(h))).toString('hex')).toBe(hex(h).toString('hex'));
  });

  it('writes at an offset into a larger buffer', () => {
    const out = Buffer.alloc(20, 0xee);
    const end = writeRtpPacket(parseRtpPacket(hex(SIMPLE)), out, 4);
    expect(end).toBe(18);
    expect(out.subarray(4, 18).toString('hex')).toBe(hex(SIMPLE).toString('hex'));
    expect(out[3]).toBe(0xee);
  });

  const base: RtpPacket = { marker: false, payloadType: 96, sequenceNumber: 1, timestamp: 1, ssrc: 1, csrcs: [], payload: hex('00'), paddingSize: 0 };
  it.each<[string, Partial<RtpPacket>]>([
    ['payload type 128', { payloadType: 128 }],
    ['sequence 65536', { sequenceNumber: 65536 }],
    ['negative timestamp', { timestamp: -1 }],
    ['SSRC over 32 bits', { ssrc: 2 ** 32 }],
    ['16 CSRCs', { csrcs: new Array(16).fill(1) }],
    ['extension not a multiple of 4', { extension: { profile: 0xbede, data: hex('10ff00') } }],
    ['padding 256', { paddingSize: 256 }],
  ])('rejects %s with BAD_ARGUMENT', (_n, patch) => {
    expect(() => serializeRtpPacket({ ...base, ...patch })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('round-trips any valid packet (property)', () => {
    const packet = fc.record({
      marker: fc.boolean(),
      payloadType: fc.integer({ min: 0, max: 127 }),
      sequenceNumber: fc.integer({ min: 0, max: 0xffff }),
      timestamp: fc.nat({ max: 0xffffffff }),
      ssrc: fc.nat({ max: 0xffffffff }),
      csrcs: fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 15 }),
      extension: fc.option(
        fc.record({ profile: fc.integer({ min: 0, max: 0xffff }), data: fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a.subarray(0, a.length - (a.length % 4)))) }),
        { nil: undefined },
      ),
      payload: fc.uint8Array({ maxLength: 50 }).map((a) => Buffer.from(a)),
      paddingSize: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(packet, (p) => {
        const bytes = serializeRtpPacket(p);
        expect(bytes.length).toBe(rtpPacketSize(p));
        expect(parseRtpPacket(bytes)).toEqual(p);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('header extensions (RFC 8285)', () => {
  it('builds a one-byte block and reads it back', () => {
    const ext = buildOneByteExtension([
      { id: 3, data: hex('0102') },
      { id: 14, data: hex('aabbcc') },
    ]);
    expect(ext.profile).toBe(0xbede);
    expect(ext.data.toString('hex')).toBe('310102' + 'e2aabbcc' + '00');
    expect(readRtpHeaderExtensions(ext)).toEqual([
      { id: 3, data: hex('0102') },
      { id: 14, data: hex('aabbcc') },
    ]);
  });

  it('reads two-byte elements, skips padding, ignores other profiles', () => {
    expect(readRtpHeaderExtensions({ profile: 0x1000, data: hex('0101aa 00 0700 0302bbcc 0000') })).toEqual([
      { id: 1, data: hex('aa') },
      { id: 7, data: hex('') },
      { id: 3, data: hex('bbcc') },
    ]);
    expect(readRtpHeaderExtensions({ profile: 0x1234, data: hex('10ff0000') })).toEqual([]);
  });

  it('stops at id 15 and throws MediaError for an element past the block', () => {
    expect(readRtpHeaderExtensions({ profile: 0xbede, data: hex('10fff0aa') })).toEqual([{ id: 1, data: hex('ff') }]);
    expect(() => readRtpHeaderExtensions({ profile: 0xbede, data: hex('13ff0000') })).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
    expect(() => readRtpHeaderExtensions({ profile: 0x1000, data: hex('0105aa00') })).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
  });

  it.each([
    ['id 0', 0, 1],
    ['id 15', 15, 1],
    ['17 bytes', 1, 17],
    ['0 bytes', 1, 0],
  ])('refuses to build %s', (_n, id, len) => {
    expect(() => buildOneByteExtension([{ id, data: Buffer.alloc(len) }])).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});

describe('sequence numbers and timestamps', () => {
  it.each([
    [5, 3, 2],
    [3, 5, -2],
    [0, 65535, 1],
    [65535, 0, -1],
    [10, 65530, 16],
    [32767, 0, 32767],
    [32768, 0, -32768],
  ])('rtpSeqDiff(%i, %i) = %i', (a, b, d) => {
    expect(rtpSeqDiff(a, b)).toBe(d);
  });

  it.each([
    [0, 90000, 0],
    [1000, 90000, 90000],
    [33.3333, 90000, 3000],
    [20, 48000, 960],
    [2 ** 32 / 90, 90000, 0],
    [-1000, 90000, 2 ** 32 - 90000],
  ])('rtpTimestampFromMs(%d, %i) = %i', (ms, rate, ts) => {
    expect(rtpTimestampFromMs(ms, rate)).toBe(ts);
  });

  it('stamps payloads and wraps the sequence at 65535', () => {
    const s = new RtpStamper({ ssrc: 0x01020304, payloadType: 111, sequenceNumber: 65534 });
    const pkts = s.stamp(
      [0, 1, 2, 3].map((i) => ({ payload: Buffer.of(i), marker: i === 3 })),
      0xfffffffe,
    );
    const parsed = pkts.map(parseRtpPacket);
    expect(parsed.map((p) => p.sequenceNumber)).toEqual([65534, 65535, 0, 1]);
    expect(parsed.map((p) => p.marker)).toEqual([false, false, false, true]);
    expect(parsed.every((p) => p.ssrc === 0x01020304 && p.payloadType === 111 && p.timestamp === 0xfffffffe)).toBe(true);
    expect(pkts[3].toString('hex')).toBe('80ef0001fffffffe0102030403');
    expect(s.sequenceNumber).toBe(2);
  });

  it('picks a random first sequence number when none is given', () => {
    const seq = new RtpStamper({ ssrc: 1, payloadType: 96 }).sequenceNumber;
    expect(Number.isInteger(seq) && seq >= 0 && seq <= 0xffff).toBe(true);
    expect(() => new RtpStamper({ ssrc: 1, payloadType: 200 })).toThrow(MediaError);
  });
});
