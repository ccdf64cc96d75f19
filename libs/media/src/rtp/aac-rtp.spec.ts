import fc from 'fast-check';
import { BitWriter } from '../bit-reader';
import { buildAudioSpecificConfig, parseAudioSpecificConfig } from '../codecs/aac';
import { MediaError } from '../media.errors';
import {
  AacHbrDepacketizer,
  AacRtpFrame,
  aacRtpConfigHex,
  audioSpecificConfigBitLength,
  buildLatmStreamMuxConfig,
  LatmDepacketizer,
  packetizeAacHbr,
  packetizeLatm,
  parseLatmStreamMuxConfig,
  parseRfc3640Payload,
  splitLatmPayload,
} from './aac-rtp';
import { parseRtpPacket, RtpPacket, RtpStamper, serializeRtpPacket } from './rtp-packet';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function bytes(size: number, seed = size): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function rtp(seq: number, ts: number, payload: string | Buffer, marker = false): RtpPacket {
  return { marker, payloadType: 97, sequenceNumber: seq & 0xffff, timestamp: ts >>> 0, ssrc: 1, csrcs: [], payload: typeof payload === 'string' ? hex(payload) : payload, paddingSize: 0 };
}

const show = (frames: AacRtpFrame[]) => frames.map((f) => [f.timestamp, f.frame.toString('hex')]);

type Op = { kind: 'drop' | 'dup' | 'swap' | 'move' | 'flip'; i: number; j: number; bit: number };
const opArb = fc.record({ kind: fc.constantFrom<Op['kind']>('drop', 'dup', 'swap', 'move', 'flip'), i: fc.nat(), j: fc.nat(), bit: fc.nat() });

/** Apply loss, duplication, reordering and bit flips to serialized packets. */
function damage(pkts: Buffer[], ops: Op[]): Buffer[] {
  const out = [...pkts];
  for (const o of ops) {
    if (out.length === 0) break;
    const i = o.i % out.length;
    const j = o.j % out.length;
    if (o.kind === 'drop') out.splice(i, 1);
    else if (o.kind === 'dup') out.splice(j, 0, out[i]);
    else if (o.kind === 'swap') [out[i], out[j]] = [out[j], out[i]];
    else if (o.kind === 'move') out.splice(j, 0, ...out.splice(i, 1));
    else {
      const b = Buffer.from(out[i]);
      const bit = o.bit % (b.length * 8);
      b[bit >> 3] ^= 1 << (bit & 7);
      out[i] = b;
    }
  }
  return out;
}

describe('aacRtpConfigHex', () => {
  it('is the AudioSpecificConfig in hex (RFC 3640 fmtp config=)', () => {
    expect(aacRtpConfigHex(hex('1210'))).toBe('1210');
    expect(aacRtpConfigHex(buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 1 }))).toBe('1188');
  });

  it('rejects a config that is not an AudioSpecificConfig', () => {
    expect(() => aacRtpConfigHex(hex('f8'))).toThrow(expect.objectContaining({ code: 'BAD_ASC' }));
  });
});

describe('packetizeAacHbr', () => {
  it.each<[string, string[], number, [string, boolean, number][]]>([
    // RFC 3640 3.3.6: AU-headers-length 16 bits, AU-size 13 bits, AU-Index 3 bits
    ['one AU', ['0102030405'], 1200, [['0010 0028 0102030405', true, 0]]],
    ['two AUs aggregated', ['aabbcc', 'ddee'], 1200, [['0020 0018 0010 aabbcc ddee', true, 0]]],
    ['AUs split when they do not fit together', ['aabbcc', 'ddee', 'ff'], 11, [['0020 0018 0010 aabbcc ddee', true, 0], ['0010 0008 ff', true, 2048]]],
    // RFC 3640 3.2.3: every fragment carries the AU-header with the size of the whole AU
    ['a fragmented AU', ['0102030405060708090a'], 9, [['0010 0050 0102030405', false, 0], ['0010 0050 060708090a', true, 0]]],
    ['a fragmented AU between small ones', ['aa', '0102030405060708090a', 'bb'], 9, [['0010 0008 aa', true, 0], ['0010 0050 0102030405', false, 1024], ['0010 0050 060708090a', true, 1024], ['0010 0008 bb', true, 2048]]],
    ['empty frames are skipped and break aggregation', ['aa', '', 'bb'], 1200, [['0010 0008 aa', true, 0], ['0010 0008 bb', true, 2048]]],
  ])('%s', (_n, frames, mtu, want) => {
    const out = packetizeAacHbr(frames.map(hex), { mtu });
    expect(out.map((p) => [p.payload.toString('hex'), p.marker, p.timestampOffset])).toEqual(want.map(([h, m, t]) => [hex(h).toString('hex'), m, t]));
    expect(out.every((p) => p.payload.length <= mtu)).toBe(true);
  });

  it('uses the frame length option for timestamp offsets', () => {
    expect(packetizeAacHbr([hex('aa'), hex('bb')], { mtu: 5, frameLength: 960 }).map((p) => p.timestampOffset)).toEqual([0, 960]);
  });

  it('rejects a frame over 8191 bytes and a bad MTU', () => {
    expect(() => packetizeAacHbr([Buffer.alloc(8192)])).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(packetizeAacHbr([Buffer.alloc(8191)])).toHaveLength(7);
    for (const mtu of [0, 4, 5.5, NaN]) expect(() => packetizeAacHbr([hex('aa')], { mtu })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});

describe('parseRfc3640Payload', () => {
  const hbr = { sizeLength: 13, indexLength: 3, indexDeltaLength: 3 };

  it('reads AAC-hbr AU-headers with index and deltas', () => {
    expect(parseRfc3640Payload(hex('0020 0018 0011 aabbcc ddee'), hbr)).toEqual([
      { size: 3, index: 0, data: hex('aabbcc') },
      { size: 2, index: 1, data: hex('ddee') },
    ]);
  });

  it('reads AAC-lbr AU-headers (6/2/2, RFC 3640 3.3.5), which are not byte-sized', () => {
    expect(parseRfc3640Payload(hex('0010 0c08 aabbcc ddee'), { sizeLength: 6, indexLength: 2, indexDeltaLength: 2 }).map((a) => a.data.toString('hex'))).toEqual(['aabbcc', 'ddee']);
    // 12 bits of headers take 2 bytes, the last 4 bits are padding
    expect(parseRfc3640Payload(hex('000c 0810 aabbcc'), { sizeLength: 6, indexLength: 0, indexDeltaLength: 0 }).map((a) => a.data.toString('hex'))).toEqual(['aabb', 'cc']);
  });

  it('returns a fragment when the one AU is larger than the data', () => {
    expect(parseRfc3640Payload(hex('0010 0050 0102'), hbr)).toEqual([{ size: 10, index: 0, data: hex('0102') }]);
  });

  it('ignores bytes after the last AU', () => {
    expect(parseRfc3640Payload(hex('0010 0010 aabb cc'), hbr)).toEqual([{ size: 2, index: 0, data: hex('aabb') }]);
  });

  it.each([
    ['an empty payload', ''],
    ['half a length', '00'],
    ['AU-headers-length 0', '0000 aabb'],
    ['headers past the payload', '0020 0018'],
    ['a partial AU-header', '000f 0018 aa'],
    ['several AUs past the payload', '0020 0018 0010 aabbcc dd'],
  ])('rejects %s with BAD_RTP_PAYLOAD', (_n, h) => {
    expect(() => parseRfc3640Payload(hex(h), hbr)).toThrow(expect.objectContaining({ code: 'BAD_RTP_PAYLOAD' }));
  });
});

describe('AAC depacketizers on random payloads', () => {
  it('throw only MediaError and hold at most their limit (property)', () => {
    const layout = fc.record({ sizeLength: fc.integer({ min: 1, max: 16 }), indexLength: fc.integer({ min: 0, max: 4 }), indexDeltaLength: fc.integer({ min: 0, max: 4 }) });
    fc.assert(
      fc.property(layout, fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 20 }), fc.integer({ min: 0, max: 0xffff }), (l, payloads, seq) => {
        const hbr = new AacHbrDepacketizer({ ...l, maxFrameSize: 100 });
        const latm = new LatmDepacketizer({ maxElementSize: 100 });
        payloads.forEach((p, i) => {
          for (const d of [hbr, latm]) {
            try {
              for (const f of d.push(rtp(seq + i, i >> 2, Buffer.from(p), (i & 3) === 3))) expect(f.frame.length).toBeLessThanOrEqual(100);
            } catch (e) {
              if (!(e instanceof MediaError)) throw e;
            }
            expect(d.bufferedBytes).toBeLessThanOrEqual(100);
          }
        });
        latm.flushPending();
      }),
      { numRuns: 300 },
    );
  });
});

describe('AacHbrDepacketizer', () => {
  it('gives each AU of a packet its timestamp (pkt + i * 1024, or the frame length option)', () => {
    expect(show(new AacHbrDepacketizer().push(rtp(1, 1000, '0020 0018 0010 aabbcc ddee', true)))).toEqual([
      [1000, 'aabbcc'],
      [2024, 'ddee'],
    ]);
    expect(show(new AacHbrDepacketizer({ frameLength: 960 }).push(rtp(1, 0xffffff00, '0020 0018 0010 aabbcc ddee', true)))).toEqual([
      [0xffffff00, 'aabbcc'],
      [(0xffffff00 + 960) >>> 0, 'ddee'],
    ]);
  });

  it('places interleaved AUs by their index deltas', () => {
    expect(show(new AacHbrDepacketizer().push(rtp(1, 0, '0020 0018 0012 aabbcc ddee', true)))).toEqual([
      [0, 'aabbcc'],
      [3072, 'ddee'],
    ]);
  });

  it('uses the fmtp layout (AAC-lbr)', () => {
    const d = new AacHbrDepacketizer({ sizeLength: 6, indexLength: 2, indexDeltaLength: 2 });
    expect(show(d.push(rtp(1, 0, '0010 0c08 aabbcc ddee', true)))).toEqual([
      [0, 'aabbcc'],
      [1024, 'ddee'],
    ]);
  });

  it.each([
    [{ sizeLength: 0 }],
    [{ sizeLength: 33 }],
    [{ indexLength: -1 }],
    [{ indexDeltaLength: NaN }],
    [{ frameLength: 0 }],
  ])('rejects layout %j', (o) => {
    expect(() => new AacHbrDepacketizer(o)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('reassembles a fragmented AU across the sequence wrap', () => {
    const d = new AacHbrDepacketizer();
    expect(d.push(rtp(65535, 7, '0010 0050 0102030405'))).toEqual([]);
    expect(d.bufferedBytes).toBe(5);
    expect(show(d.push(rtp(0, 7, '0010 0050 060708090a', true)))).toEqual([[7, '0102030405060708090a']]);
    expect(d.bufferedBytes).toBe(0);
    expect(d.stats).toEqual({ packets: 2, lost: 0, duplicates: 0, late: 0, droppedFrames: 0, frames: 1 });
  });

  it.each<[string, RtpPacket[], [number, string][], Partial<AacHbrDepacketizer['stats']>]>([
    ['a lost first fragment', [rtp(2, 7, '0010 0048 0405'), rtp(3, 7, '0010 0048 060708', true), rtp(4, 8, '0010 0008 ee', true)], [[8, 'ee']], { droppedFrames: 1 }],
    ['a lost first fragment after a whole AU', [rtp(1, 6, '0010 0008 dd', true), rtp(3, 7, '0010 0048 0405'), rtp(4, 7, '0010 0048 060708', true)], [[6, 'dd']], { lost: 1, droppedFrames: 1 }],
    ['a lost middle fragment', [rtp(1, 7, '0010 0048 010203'), rtp(3, 7, '0010 0048 0708', true), rtp(4, 8, '0010 0008 ee', true)], [[8, 'ee']], { lost: 1, droppedFrames: 1 }],
    ['a lost last fragment', [rtp(1, 7, '0010 0048 010203'), rtp(2, 7, '0010 0048 040506'), rtp(4, 8, '0010 0008 ee', true)], [[8, 'ee']], { lost: 1, droppedFrames: 1 }],
    ['a marker before the end', [rtp(1, 7, '0010 0048 010203'), rtp(2, 7, '0010 0048 040506', true), rtp(3, 8, '0010 0008 ee', true)], [[8, 'ee']], { droppedFrames: 1 }],
    ['a timestamp change inside an AU', [rtp(1, 7, '0010 0048 010203'), rtp(2, 8, '0010 0030 040506'), rtp(3, 8, '0010 0030 070809', true)], [[8, '040506070809']], { droppedFrames: 1 }],
    ['more bytes than the AU-size', [rtp(1, 7, '0010 0048 010203'), rtp(2, 7, '0010 0048 0405060708090a', true)], [], { droppedFrames: 1 }],
    ['a whole AU inside a fragmented one', [rtp(1, 7, '0010 0048 010203'), rtp(2, 8, '0010 0008 ee', true)], [[8, 'ee']], { droppedFrames: 1 }],
  ])('drops the AU on %s', (_n, pkts, want, stats) => {
    const d = new AacHbrDepacketizer();
    const got = [...pkts.flatMap((p) => d.push(p)), ...d.flushPending()];
    expect(show(got)).toEqual(want);
    expect(d.stats).toMatchObject(stats);
    expect(d.bufferedBytes).toBe(0);
  });

  it('ignores duplicates and late packets', () => {
    const d = new AacHbrDepacketizer();
    const got = [rtp(1, 0, '0010 0008 aa', true), rtp(1, 0, '0010 0008 aa', true), rtp(3, 2048, '0010 0008 cc', true), rtp(2, 1024, '0010 0008 bb', true)].flatMap((p) => d.push(p));
    expect(show(got)).toEqual([
      [0, 'aa'],
      [2048, 'cc'],
    ]);
    expect(d.stats).toMatchObject({ duplicates: 1, late: 1, lost: 1, frames: 2 });
  });

  it('drops an AU over maxFrameSize without holding it, and its other fragments quietly', () => {
    const d = new AacHbrDepacketizer({ maxFrameSize: 4 });
    const got = [rtp(1, 7, '0010 0028 0102'), rtp(2, 7, '0010 0028 0304'), rtp(3, 7, '0010 0028 05', true), rtp(4, 8, '0010 0020 aabbccdd', true)].flatMap((p) => d.push(p));
    expect(show(got)).toEqual([[8, 'aabbccdd']]);
    expect(d.stats.droppedFrames).toBe(1);
    expect(show(d.push(rtp(5, 9, '0020 0028 0008 0102030405 ee', true)))).toEqual([[9 + 1024, 'ee']]);
  });

  it('throws MediaError for a malformed payload and keeps going', () => {
    const d = new AacHbrDepacketizer();
    d.push(rtp(1, 7, '0010 0048 010203'));
    expect(() => d.push(rtp(2, 7, '0000'))).toThrow(expect.objectContaining({ code: 'BAD_RTP_PAYLOAD' }));
    expect(d.bufferedBytes).toBe(0);
    expect(d.push(rtp(3, 7, '0010 0048 040506', true))).toEqual([]);
    expect(show(d.push(rtp(4, 8, '0010 0008 ee', true)))).toEqual([[8, 'ee']]);
  });

  const framesArb = fc.array(fc.record({ size: fc.integer({ min: 0, max: 3000 }), seed: fc.nat() }), { minLength: 1, maxLength: 12 });

  /** Frames cut into calls of 1..3 frames, stamped at the first frame's timestamp + each payload's offset. */
  function send(frames: Buffer[], mtu: number, seq: number, start: number): Buffer[] {
    const s = new RtpStamper({ ssrc: 5, payloadType: 97, sequenceNumber: seq });
    const pkts: Buffer[] = [];
    for (let i = 0; i < frames.length; i += 1 + (i % 3)) {
      const call = frames.slice(i, i + 1 + (i % 3));
      for (const p of packetizeAacHbr(call, { mtu })) pkts.push(serializeRtpPacket(s.packet(p, start + i * 1024)));
    }
    return pkts;
  }

  it.each([5, 100, 500, 1200])('MTU %i: packetize, stamp, serialize, parse, depacketize gives the same frames and timestamps', (mtu) => {
    const frames = [1, 2, 3, 50, 100, 255, 256, 497, 498, 499, 500, 1195, 1196, 1197, 1198, 3000, 8191, 4, 4].map((n, i) => bytes(n, i));
    const start = 0xfffff000;
    const d = new AacHbrDepacketizer();
    const pkts = send(frames, mtu, 65525, start);
    const seqs = pkts.map((b) => parseRtpPacket(b).sequenceNumber);
    expect(seqs).toContain(65535);
    const got = pkts.flatMap((b) => d.push(parseRtpPacket(b)));
    expect(show(got)).toEqual(frames.map((f, i) => [(start + i * 1024) >>> 0, f.toString('hex')]));
    expect(d.stats).toMatchObject({ lost: 0, droppedFrames: 0, frames: frames.length });
  });

  it('round-trips any frames at any MTU (property)', () => {
    fc.assert(
      fc.property(framesArb, fc.integer({ min: 5, max: 1500 }), fc.integer({ min: 0, max: 0xffff }), (spec, mtu, seq) => {
        const frames = spec.map((f) => bytes(f.size, f.seed));
        const d = new AacHbrDepacketizer();
        const got = send(frames, mtu, seq, 0).flatMap((b) => d.push(parseRtpPacket(b)));
        const want = frames.flatMap((f, i) => (f.length > 0 ? [[i * 1024, f.toString('hex')]] : []));
        expect(show(got)).toEqual(want);
      }),
      { numRuns: 150 },
    );
  });

  it('on dropped, duplicated, reordered or bit-flipped packets: only MediaError, bounded memory, only frames that were sent (property)', () => {
    fc.assert(
      fc.property(framesArb, fc.constantFrom(20, 100, 500, 1200), fc.integer({ min: 0, max: 0xffff }), fc.array(opArb, { minLength: 1, maxLength: 8 }), (spec, mtu, seq, ops) => {
        const frames = spec.map((f) => bytes(f.size, f.seed));
        const sent = new Set(frames.map((f, i) => `${i * 1024}:${f.toString('hex')}`));
        const pkts = damage(send(frames, mtu, seq, 0), ops);
        const flipped = ops.some((o) => o.kind === 'flip');
        const d = new AacHbrDepacketizer({ maxFrameSize: 2000 });
        const got: AacRtpFrame[] = [];
        let maxBuffered = 0;
        for (const b of pkts) {
          try {
            got.push(...d.push(parseRtpPacket(b)));
          } catch (e) {
            if (!(e instanceof MediaError)) throw e;
          }
          maxBuffered = Math.max(maxBuffered, d.bufferedBytes);
        }
        expect(maxBuffered).toBeLessThanOrEqual(2000);
        for (const f of got) {
          expect(f.frame.length).toBeGreaterThan(0);
          expect(f.frame.length).toBeLessThanOrEqual(2000);
          if (!flipped) expect(sent.has(`${f.timestamp}:${f.frame.toString('hex')}`)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

/** An AAC-LC 48 kHz AudioSpecificConfig with channelConfiguration 0 and a PCE (one CPE): 2 channels. */
function ascWithPce(): Buffer {
  const w = new BitWriter();
  w.writeBits(2, 5).writeBits(3, 4).writeBits(0, 4).writeBits(0, 3); // LC, 48 kHz, PCE, GASpecificConfig
  w.writeBits(0, 4).writeBits(1, 2).writeBits(3, 4); // element_instance_tag, object_type, sampling index
  w.writeBits(1, 4).writeBits(0, 4).writeBits(0, 4).writeBits(0, 2).writeBits(0, 3).writeBits(0, 4); // front 1, others 0
  w.writeBits(0, 3); // no mixdowns
  w.writeBits(1, 1).writeBits(0, 4); // front element: CPE, tag 0
  w.byteAlign().writeBits(0, 8); // comment_field_bytes
  return w.toBuffer();
}

describe('parseLatmStreamMuxConfig', () => {
  it.each<[string, string, string, number, number, boolean, number]>([
    // seen in camera / server SDPs: MP4A-LATM/44100/2 config=400024203fc0
    ['400024203fc0', '1210', 'LC', 44100, 2, false, 0xff],
    ['400024203FC0', '1210', 'LC', 44100, 2, false, 0xff],
    ['40 00 24 20 3f c0', '1210', 'LC', 44100, 2, false, 0xff],
    // cut short after the AudioSpecificConfig: the usual trailing fields are assumed
    ['40002420', '1210', 'LC', 44100, 2, true, 0xff],
    ['40002b10', '1588', 'LC', 8000, 1, true, 0xff],
    // an HE-AAC stream with implicit SBR: MP4A-LATM/44100/2 config=400027200000 (core 22.05 kHz)
    ['400027200000', '1390', 'LC', 22050, 2, false, 0],
    ['400023103fc0', '1188', 'LC', 48000, 1, false, 0xff],
  ])('%s', (config, asc, profile, sampleRate, channels, truncated, fullness) => {
    const m = parseLatmStreamMuxConfig(config);
    expect(m.asc.toString('hex')).toBe(asc);
    expect(parseAudioSpecificConfig(m.asc)).toMatchObject({ profile, sampleRate, channels });
    expect(m).toMatchObject({ audioMuxVersion: 0, allStreamsSameTimeFraming: true, numSubFrames: 1, frameLengthType: 0, otherDataPresent: false, crcCheckPresent: false, truncated });
    expect(m.streams).toHaveLength(1);
    expect(m.streams[0].latmBufferFullness).toBe(fullness);
  });

  it('takes Buffers too', () => {
    expect(parseLatmStreamMuxConfig(hex('400024203fc0')).asc.toString('hex')).toBe('1210');
  });

  it('reads audioMuxVersion 1 (explicit ASC length, LatmGetValue fields)', () => {
    const w = new BitWriter();
    w.writeBits(1, 1).writeBits(0, 1); // audioMuxVersion 1, audioMuxVersionA 0
    w.writeBits(0, 2).writeBits(0xff, 8); // taraBufferFullness
    w.writeBits(1, 1).writeBits(0, 6).writeBits(0, 4).writeBits(0, 3);
    w.writeBits(0, 2).writeBits(16, 8); // ascLen
    w.writeBits(0x1210, 16);
    w.writeBits(0, 3).writeBits(0xff, 8); // frameLengthType 0, latmBufferFullness
    w.writeBits(1, 1).writeBits(0, 2).writeBits(8, 8); // otherDataPresent, otherDataLenBits 8
    w.writeBits(1, 1).writeBits(0xab, 8); // crcCheckPresent, checksum
    const m = parseLatmStreamMuxConfig(w.toBuffer());
    expect(m).toMatchObject({ audioMuxVersion: 1, taraBufferFullness: 0xff, frameLengthType: 0, otherDataPresent: true, otherDataLenBits: 8, crcCheckPresent: true, truncated: false });
    expect(m.asc.toString('hex')).toBe('1210');
  });

  it('reads several programs and layers, useSameConfig and frameLengthType 1', () => {
    const w = new BitWriter();
    w.writeBits(0, 1).writeBits(0, 1).writeBits(1, 6).writeBits(1, 4); // v0, not same time framing, 2 subframes, 2 programs
    w.writeBits(1, 3); // program 0: 2 layers
    w.writeBits(0x1210, 16).writeBits(0, 3).writeBits(0x80, 8); // layer 0: ASC, type 0, fullness
    w.writeBits(1, 1).writeBits(1, 3).writeBits(300, 9); // layer 1: same config, type 1, frameLength
    w.writeBits(0, 3); // program 1: 1 layer
    w.writeBits(0, 1).writeBits(0x1188, 16).writeBits(0, 3).writeBits(0xff, 8); // own ASC
    w.writeBits(1, 1).writeBits(1, 1).writeBits(0x01, 8).writeBits(0, 1).writeBits(0x02, 8); // other data: 258 bits
    w.writeBits(0, 1);
    const m = parseLatmStreamMuxConfig(w.toBuffer());
    expect(m.streams.map((s) => [s.program, s.layer, s.asc.toString('hex'), s.frameLengthType, s.frameLength ?? s.latmBufferFullness])).toEqual([
      [0, 0, '1210', 0, 0x80],
      [0, 1, '1210', 1, 300],
      [1, 0, '1188', 0, 0xff],
    ]);
    expect(m).toMatchObject({ numSubFrames: 2, allStreamsSameTimeFraming: false, otherDataPresent: true, otherDataLenBits: 258, truncated: false });
  });

  it('finds the end of an AudioSpecificConfig with a PCE (byte alignment relative to the ASC)', () => {
    const asc = ascWithPce();
    expect(audioSpecificConfigBitLength(asc)).toBe(64);
    expect(parseAudioSpecificConfig(asc).channels).toBe(2);
    const config = buildLatmStreamMuxConfig(asc);
    const m = parseLatmStreamMuxConfig(config);
    expect(m.asc.toString('hex')).toBe(asc.toString('hex'));
    expect(m).toMatchObject({ frameLengthType: 0, truncated: false });
    expect(m.streams[0].latmBufferFullness).toBe(0xff);
  });

  it.each<[string, string, string]>([
    ['not hex', 'zz', 'BAD_STREAM_MUX_CONFIG'],
    ['odd length', '400', 'BAD_STREAM_MUX_CONFIG'],
    ['empty', '', 'BAD_STREAM_MUX_CONFIG'],
    ['too short', '40', 'BAD_STREAM_MUX_CONFIG'],
    ['audioMuxVersionA 1', 'c0', 'UNSUPPORTED'],
    ['object type 0', '40000000', 'BAD_ASC'],
    ['a CELP ASC in version 0', '4000800000', 'UNSUPPORTED'],
    ['reserved frameLengthType 2', '4000242080', 'BAD_STREAM_MUX_CONFIG'],
  ])('rejects %s', (_n, config, code) => {
    expect(() => parseLatmStreamMuxConfig(config)).toThrow(expect.objectContaining({ code }));
  });

  it('throws only MediaError on any input (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (b) => {
        try {
          const m = parseLatmStreamMuxConfig(Buffer.from(b));
          expect(m.streams.length).toBeGreaterThan(0);
        } catch (e) {
          if (!(e instanceof MediaError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('buildLatmStreamMuxConfig', () => {
  it('writes the config cameras send', () => {
    expect(buildLatmStreamMuxConfig(hex('1210')).toString('hex')).toBe('400024203fc0');
    expect(buildLatmStreamMuxConfig(hex('1188')).toString('hex')).toBe('400023103fc0');
  });

  it('round-trips AudioSpecificConfigs (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2, 3, 4, 5, 29), fc.constantFrom(8000, 16000, 22050, 24000, 44100, 48000, 96000, 12345), fc.constantFrom(1, 2, 3, 6, 8), (objectType, sampleRate, channels) => {
        const asc = buildAudioSpecificConfig({ objectType, sampleRate, channels });
        const m = parseLatmStreamMuxConfig(buildLatmStreamMuxConfig(asc).toString('hex'));
        expect(m.asc.toString('hex')).toBe(asc.toString('hex'));
        expect(m.truncated).toBe(false);
      }),
    );
  });
});

describe('packetizeLatm and splitLatmPayload', () => {
  it.each<[number, string]>([
    [1, '01'],
    [254, 'fe'],
    [255, 'ff00'],
    [300, 'ff2d'],
    [510, 'ffff00'],
  ])('a %i-byte frame gets PayloadLengthInfo %s', (size, lengthInfo) => {
    const frame = bytes(size);
    const [p] = packetizeLatm(frame);
    expect(p.payload.toString('hex')).toBe(lengthInfo + frame.toString('hex'));
    expect(p.marker).toBe(true);
    expect(splitLatmPayload(p.payload).map((f) => f.toString('hex'))).toEqual([frame.toString('hex')]);
  });

  it('splits an element over the MTU with the marker on the last payload', () => {
    const out = packetizeLatm(hex('0102030405'), { mtu: 2 });
    expect(out.map((p) => [p.payload.toString('hex'), p.marker])).toEqual([
      ['0501', false],
      ['0203', false],
      ['0405', true],
    ]);
  });

  it('gives nothing for an empty frame and rejects a bad MTU', () => {
    expect(packetizeLatm(Buffer.alloc(0))).toEqual([]);
    expect(() => packetizeLatm(hex('aa'), { mtu: 0 })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it.each([
    ['a payload past the end', '05 0102'],
    ['a length run past the end', 'ffff'],
  ])('rejects %s', (_n, h) => {
    expect(() => splitLatmPayload(hex(h))).toThrow(expect.objectContaining({ code: 'BAD_RTP_PAYLOAD' }));
  });
});

/**
 * A LatmDepacketizer past its start: the first packet (and its element) is always dropped, since a stream
 * may start inside an element. The sync packet has sequence number firstSeq - 1 and an unused timestamp.
 */
function synced(firstSeq: number, o: ConstructorParameters<typeof LatmDepacketizer>[0] = {}): LatmDepacketizer {
  const d = new LatmDepacketizer(o);
  expect(d.push(rtp(firstSeq - 1, 0x7fffffff, '01 00', true))).toEqual([]);
  return d;
}

describe('LatmDepacketizer', () => {
  it('drops the first element: the stream may start inside one', () => {
    const d = new LatmDepacketizer();
    expect(d.push(rtp(1, 0, '03 aabb'))).toEqual([]);
    expect(d.push(rtp(2, 0, 'cc 01 dd', true))).toEqual([]);
    expect(show(d.push(rtp(3, 1024, '01 ee', true)))).toEqual([[1024, 'ee']]);
    const markerless = new LatmDepacketizer();
    expect(markerless.push(rtp(1, 0, '01 aa'))).toEqual([]);
    expect(markerless.push(rtp(2, 1024, '01 bb'))).toEqual([]);
    expect(show(markerless.flushPending())).toEqual([[1024, 'bb']]);
  });

  it('reads elements, subframes and several elements per packet', () => {
    const d = synced(1);
    expect(show(d.push(rtp(1, 100, '05 0102030405', true)))).toEqual([[100, '0102030405']]);
    expect(show(d.push(rtp(2, 1124, '02 aabb 01 cc', true)))).toEqual([
      [1124, 'aabb'],
      [2148, 'cc'],
    ]);
    expect(d.stats).toEqual({ packets: 3, lost: 0, duplicates: 0, late: 0, droppedFrames: 0, frames: 3 });
  });

  it('gathers a fragmented element until the marker, across the sequence wrap', () => {
    const d = synced(65535, { frameLength: 960 });
    expect(d.push(rtp(65535, 5, '06 0102'))).toEqual([]);
    expect(d.bufferedBytes).toBe(3);
    expect(d.push(rtp(0, 5, '0304'))).toEqual([]);
    expect(show(d.push(rtp(1, 5, '0506 01 aa', true)))).toEqual([
      [5, '010203040506'],
      [965, 'aa'],
    ]);
    expect(d.bufferedBytes).toBe(0);
  });

  it('works with a sender that sets no marker: a timestamp change ends the element', () => {
    const d = synced(1);
    expect(d.push(rtp(1, 0, '02 aabb'))).toEqual([]);
    expect(show(d.push(rtp(2, 1024, '02 ccdd')))).toEqual([[0, 'aabb']]);
    expect(show(d.flushPending())).toEqual([[1024, 'ccdd']]);
  });

  it('after a loss drops packets up to a marker (they may be the tail of an element)', () => {
    const d = synced(1);
    const got = [
      rtp(1, 0, '06 0102'), // start of an element whose end is lost
      rtp(3, 1024, '03 aabb'), // start lost: a tail that looks like an element start
      rtp(4, 1024, 'cc 01 dd', true),
      rtp(5, 2048, '01 ee', true),
    ].flatMap((p) => d.push(p));
    expect(show(got)).toEqual([[2048, 'ee']]);
    expect(d.stats).toMatchObject({ lost: 1, droppedFrames: 1 });
  });

  it('a timestamp change ends the discarding', () => {
    const d = synced(1);
    const got = [rtp(1, 0, '01 aa', true), rtp(3, 1024, '05 0102'), rtp(4, 2048, '01 ee', true)].flatMap((p) => d.push(p));
    expect(show(got)).toEqual([
      [0, 'aa'],
      [2048, 'ee'],
    ]);
  });

  it('drops an incomplete element without a marker when the timestamp changes', () => {
    const d = synced(1);
    const got = [rtp(1, 0, '05 0102'), rtp(2, 1024, '01 ee', true)].flatMap((p) => d.push(p));
    expect(show(got)).toEqual([[1024, 'ee']]);
    expect(d.stats.droppedFrames).toBe(1);
  });

  it('throws MediaError for a malformed element and keeps going', () => {
    const d = synced(1);
    expect(() => d.push(rtp(1, 0, '05 0102', true))).toThrow(expect.objectContaining({ code: 'BAD_RTP_PAYLOAD' }));
    expect(d.bufferedBytes).toBe(0);
    expect(show(d.push(rtp(2, 1024, '01 ee', true)))).toEqual([[1024, 'ee']]);
  });

  it('bounds an element by maxElementSize and drops the rest of it quietly', () => {
    const d = synced(1, { maxElementSize: 4 });
    const got = [rtp(1, 0, '08 0102'), rtp(2, 0, '0304'), rtp(3, 0, '05060708', true), rtp(4, 1024, '01 ee', true)].flatMap((p) => {
      const out = d.push(p);
      expect(d.bufferedBytes).toBeLessThanOrEqual(4);
      return out;
    });
    expect(show(got)).toEqual([[1024, 'ee']]);
    expect(d.stats.droppedFrames).toBe(1);
  });

  it('ignores duplicates and late packets', () => {
    const d = synced(5);
    const got = [rtp(5, 0, '01 aa', true), rtp(5, 0, '01 aa', true), rtp(6, 1024, '01 bb', true), rtp(3, 0, '01 ff', true)].flatMap((p) => d.push(p));
    expect(show(got)).toEqual([
      [0, 'aa'],
      [1024, 'bb'],
    ]);
    expect(d.stats).toMatchObject({ duplicates: 1, late: 1 });
  });

  const framesArb = fc.array(fc.record({ size: fc.integer({ min: 1, max: 3000 }), seed: fc.nat() }), { minLength: 1, maxLength: 12 });

  function send(frames: Buffer[], mtu: number, seq: number): Buffer[] {
    const s = new RtpStamper({ ssrc: 5, payloadType: 97, sequenceNumber: seq });
    return frames.flatMap((f, i) => s.stamp(packetizeLatm(f, { mtu }), i * 1024));
  }

  it.each([1, 100, 500, 1200])('MTU %i: packetize, stamp, serialize, parse, depacketize gives the same frames', (mtu) => {
    const frames = [1, 2, 254, 255, 256, 509, 510, 511, 1199, 1200, 1201, 3000, 6000].map((n, i) => bytes(n, i));
    const d = synced(65530);
    const pkts = send(frames, mtu, 65530);
    expect(pkts.map((b) => parseRtpPacket(b).sequenceNumber)).toContain(0);
    const got = pkts.flatMap((b) => d.push(parseRtpPacket(b)));
    expect(show(got)).toEqual(frames.map((f, i) => [i * 1024, f.toString('hex')]));
    expect(d.stats).toMatchObject({ lost: 0, droppedFrames: 0, frames: frames.length });
  });

  it('round-trips any frames at any MTU (property)', () => {
    fc.assert(
      fc.property(framesArb, fc.integer({ min: 1, max: 1500 }), fc.integer({ min: 0, max: 0xffff }), (spec, mtu, seq) => {
        const frames = spec.map((f) => bytes(f.size, f.seed));
        const d = synced(seq);
        const got = send(frames, mtu, seq).flatMap((b) => d.push(parseRtpPacket(b)));
        expect(show(got)).toEqual(frames.map((f, i) => [i * 1024, f.toString('hex')]));
      }),
      { numRuns: 150 },
    );
  });

  it('on dropped, duplicated, reordered or bit-flipped packets: only MediaError, bounded memory, only frames that were sent (property)', () => {
    fc.assert(
      fc.property(framesArb, fc.constantFrom(20, 100, 500, 1200), fc.integer({ min: 0, max: 0xffff }), fc.array(opArb, { minLength: 1, maxLength: 8 }), (spec, mtu, seq, ops) => {
        const frames = spec.map((f) => bytes(f.size, f.seed));
        const sent = new Set(frames.map((f, i) => `${i * 1024}:${f.toString('hex')}`));
        const pkts = damage(send(frames, mtu, seq), ops);
        const flipped = ops.some((o) => o.kind === 'flip');
        const d = synced(seq, { maxElementSize: 2000 });
        const got: AacRtpFrame[] = [];
        let maxBuffered = 0;
        for (const b of pkts) {
          try {
            got.push(...d.push(parseRtpPacket(b)));
          } catch (e) {
            if (!(e instanceof MediaError)) throw e;
          }
          maxBuffered = Math.max(maxBuffered, d.bufferedBytes);
        }
        got.push(...d.flushPending());
        expect(maxBuffered).toBeLessThanOrEqual(2000);
        for (const f of got) {
          expect(f.frame.length).toBeGreaterThan(0);
          if (!flipped) expect(sent.has(`${f.timestamp}:${f.frame.toString('hex')}`)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('StreamMuxConfig with backward-compatible SBR signalling (GStreamer avenc_aac → rtpmp4apay)', () => {
  it('reads 40002320adca00: AAC-LC 48 kHz stereo whose ASC carries the 0x2b7 sync extension (sbr absent)', () => {
    const config = parseLatmStreamMuxConfig('40002320adca00');
    expect(config.frameLengthType).toBe(0);
    expect(config.asc.toString('hex')).toBe('119056e500');
    expect(parseAudioSpecificConfig(config.asc)).toMatchObject({ objectType: 2, sampleRate: 48000, channels: 2 });
  });
});
