import fc from 'fast-check';
import { fixture, ivfFrames } from '../../test-fixtures/fixtures';
import { buildVp9Superframe, splitVp9Superframe } from '../codecs/vp9';
import { MediaError } from '../media.errors';
import { depacketizeAll, mutatePackets, packetMutationArb } from './rtp-test-mutations';
import { RtpVideoFrame } from './frame-depacketizer';
import { RtpPacket, RtpStamper } from './rtp-packet';
import { packetizeVp9, parseVp9PayloadDescriptor, Vp9Depacketizer, Vp9Packetizer } from './vp9-rtp';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** libvpx frames (320x240): a key frame and two inter frames. */
const [KEY, INTER1, INTER2] = ivfFrames(fixture('vp9-320x240.ivf'));
const KEY_HEX = KEY.toString('hex');

function bytes(size: number, seed = size): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  // never a superframe index at the end
  b[size - 1] = 0;
  return b;
}

function rtp(seq: number, ts: number, payload: string | Buffer, marker = false): RtpPacket {
  return { marker, payloadType: 98, sequenceNumber: seq & 0xffff, timestamp: ts, ssrc: 1, csrcs: [], payload: typeof payload === 'string' ? hex(payload) : payload, paddingSize: 0 };
}

function feed(d: Vp9Depacketizer, pkts: RtpPacket[]): RtpVideoFrame[] {
  return [...pkts.flatMap((p) => d.push(p)), ...d.flushPending()];
}

describe('parseVp9PayloadDescriptor (RFC 9628 4.2)', () => {
  it.each<[string, string, object]>([
    ['what ffmpeg 5.1 sends: B only', '08 aa', { interPicturePredicted: false, flexible: false, startOfFrame: true, endOfFrame: false, notUpperReference: false, size: 1 }],
    ['B, E and Z', '0d aa', { startOfFrame: true, endOfFrame: true, notUpperReference: true, size: 1 }],
    [
      'non-flexible: 15-bit PictureID, layer indices (TID 2, U, SID 1, D), TL0PICIDX',
      'ec 8123 53 07 aa',
      { interPicturePredicted: true, startOfFrame: true, endOfFrame: true, pictureId: 0x123, longPictureId: true, temporalId: 2, switchingUp: true, spatialId: 1, interLayerDependency: true, tl0PicIdx: 7, size: 5 },
    ],
    ['flexible: 7-bit PictureID, TID 1, three references (no TL0PICIDX)', 'f8 05 20 03 05 08 aa', { flexible: true, pictureId: 5, longPictureId: false, temporalId: 1, spatialId: 0, pDiffs: [1, 2, 4], size: 6 }],
    ['flexible without P: no references', 'b8 05 20 aa', { flexible: true, pictureId: 5, temporalId: 1, size: 3 }],
    [
      'scalability structure: 2 spatial layers with sizes, a picture group of 2',
      '8a 8001 38 0140 00b4 0280 0168 02 04 02 34 01 aa',
      {
        pictureId: 1,
        ss: {
          spatialLayers: 2,
          resolutions: [
            { width: 320, height: 180 },
            { width: 640, height: 360 },
          ],
          pictureGroup: [
            { temporalId: 0, switchingUp: false, pDiffs: [2] },
            { temporalId: 1, switchingUp: true, pDiffs: [1] },
          ],
        },
        size: 17,
      },
    ],
    ['scalability structure with one size (what packetizeVp9 writes)', '0a 10 0140 00f0 aa', { ss: { spatialLayers: 1, resolutions: [{ width: 320, height: 240 }] }, size: 6 }],
    ['scalability structure with an empty picture group', '0a 08 00 aa', { ss: { spatialLayers: 1, pictureGroup: [] }, size: 3 }],
  ])('%s', (_n, h, want) => {
    const d = parseVp9PayloadDescriptor(hex(h));
    expect(d).toMatchObject(want);
    for (const field of ['pictureId', 'temporalId', 'tl0PicIdx', 'pDiffs', 'ss'] as const) if (!(field in want)) expect(d[field]).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['no VP9 data', '0c'],
    ['PictureID missing', '88'],
    ['15-bit PictureID cut', '88 81'],
    ['layer indices missing', '28'],
    ['TL0PICIDX missing (non-flexible)', '28 00'],
    ['P_DIFF missing', '58'],
    ['a P_DIFF with N and nothing after', '58 03'],
    ['four references', 'd8 05 03 03 03 03 aa'],
    ['scalability structure missing', '0a'],
    ['a layer size cut', '0a 10 0140'],
    ['N_G missing', '0a 08'],
    ['a picture group entry missing', '0a 08 01'],
    ['a picture group P_DIFF missing', '0a 08 01 04'],
  ])('rejects %s with BAD_RTP_PAYLOAD', (_n, h) => {
    expect(() => parseVp9PayloadDescriptor(hex(h))).toThrow(expect.objectContaining({ code: 'BAD_RTP_PAYLOAD' }));
  });
});

describe('VP9 superframes (VP9 spec Annex B)', () => {
  it('builds and splits a superframe; the index size field grows with the largest frame', () => {
    const a = bytes(10, 1);
    const b = bytes(300, 2);
    const sf = buildVp9Superframe([a, b]);
    // marker 0b110 mag-1=1 frames-1=1, sizes 10 and 300 in 2 bytes little-endian, marker again
    expect(sf.subarray(310).toString('hex')).toBe('c9 0a00 2c01 c9'.replace(/\s/g, ''));
    expect(splitVp9Superframe(sf).map((f) => f.toString('hex'))).toEqual([a.toString('hex'), b.toString('hex')]);
    expect(buildVp9Superframe([a])).toBe(a);
  });

  it('returns a plain frame as is, also one whose last byte looks like a marker without a matching index', () => {
    expect(splitVp9Superframe(KEY)).toEqual([KEY]);
    const fake = hex('0102 c1');
    expect(splitVp9Superframe(fake)).toEqual([fake]);
  });

  it('skips zero-sized frames and rejects sizes past the data', () => {
    expect(splitVp9Superframe(hex('aabb c1 00 02 c1')).map((f) => f.toString('hex'))).toEqual(['aabb']);
    expect(() => splitVp9Superframe(hex('aabb c1 02 02 c1'))).toThrow(expect.objectContaining({ code: 'BAD_VP9_HEADER' }));
    expect(() => splitVp9Superframe(hex('c1 00 00 c1'))).toThrow(MediaError);
  });

  it('refuses 0 or more than 8 frames', () => {
    expect(() => buildVp9Superframe([])).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => buildVp9Superframe(Array.from({ length: 9 }, () => hex('00')))).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('splitVp9Superframe throws only MediaError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 30 }), fc.integer({ min: 0, max: 255 }), (a, marker) => {
        for (const b of [Buffer.from(a), Buffer.concat([Buffer.from([marker]), Buffer.from(a), Buffer.from([marker])])]) {
          try {
            splitVp9Superframe(b);
          } catch (e) {
            if (!(e instanceof MediaError)) throw e;
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('packetizeVp9', () => {
  it.each<[string, string, object, string[]]>([
    ['an inter frame: P, B and E in one packet', '0102', { keyFrame: false }, ['4c 0102']],
    ['with a 15-bit PictureID', '0102', { keyFrame: false, pictureId: 0x1234 }, ['cc 9234 0102']],
    ['pieces at MTU 3', '0102030405', { keyFrame: false, mtu: 3 }, ['48 0102', '40 0304', '44 05']],
    ['a key frame without a readable header gets the size given', '0102030405', { keyFrame: true, width: 320, height: 240, mtu: 9 }, ['0a 10 0140 00f0 010203', '04 0405']],
    ['a key frame without any size: no scalability structure', '0102', { keyFrame: true }, ['0c 0102']],
  ])('%s', (_n, f, o, want) => {
    const out = packetizeVp9(hex(f), o);
    expect(out.map((p) => p.payload.toString('hex'))).toEqual(want.map((w) => hex(w).toString('hex')));
    expect(out.map((p) => p.marker)).toEqual(want.map((_w, i) => i === want.length - 1));
  });

  it('reads key frame and size from the frame header by default', () => {
    const [first, ...rest] = packetizeVp9(KEY, { pictureId: 7, mtu: 1200 });
    expect(parseVp9PayloadDescriptor(first.payload)).toMatchObject({ interPicturePredicted: false, startOfFrame: true, endOfFrame: false, pictureId: 7, ss: { spatialLayers: 1, resolutions: [{ width: 320, height: 240 }] } });
    expect(rest.map((p) => parseVp9PayloadDescriptor(p.payload).ss)).toEqual(rest.map(() => undefined));
    expect([first, ...rest].every((p) => p.payload.length <= 1200)).toBe(true);
    const inter = parseVp9PayloadDescriptor(packetizeVp9(INTER1)[0].payload);
    expect(inter.interPicturePredicted).toBe(true);
    expect(inter.ss).toBeUndefined();
  });

  it.each<[object]>([[{ mtu: 1 }], [{ mtu: 3, pictureId: 1 }], [{ mtu: 6, keyFrame: true, width: 1, height: 1 }], [{ pictureId: 0x8000 }]])('rejects %j', (o) => {
    expect(() => packetizeVp9(hex('0001'), o)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('Vp9Packetizer numbers pictures, wrapping at 15 bits', () => {
    const p = new Vp9Packetizer({ pictureId: 0x7fff });
    expect([KEY, INTER1, INTER2].map((f) => parseVp9PayloadDescriptor(p.packetize(f)[0].payload).pictureId)).toEqual([0x7fff, 0, 1]);
  });
});

describe('Vp9Depacketizer', () => {
  const key = packetizeVp9(KEY, { mtu: 1000 });
  const keyPackets = (seq: number, ts: number) => key.map((p, i) => rtp(seq + i, ts, p.payload, p.marker));

  it('joins B..E into a frame; key from P=0 and the frame header; the SS size comes along', () => {
    const d = new Vp9Depacketizer();
    const out = feed(d, [...keyPackets(1, 100), rtp(1 + key.length, 200, Buffer.concat([hex('4c'), INTER1]), true)]);
    expect(out.map((f) => [f.timestamp, f.keyFrame, f.data.length, f.width, f.height])).toEqual([
      [100, true, KEY.length, 320, 240],
      [200, false, INTER1.length, undefined, undefined],
    ]);
    expect(out[0].data.toString('hex')).toBe(KEY_HEX);
    expect(d.stats).toMatchObject({ frames: 2, droppedFrames: 0, lost: 0 });
  });

  it('a key frame header with P=1 is not a key frame; P=0 on an inter frame is not either (as ffmpeg sends)', () => {
    const d = new Vp9Depacketizer();
    expect(feed(d, [rtp(1, 100, Buffer.concat([hex('4c'), KEY]), true), rtp(2, 200, Buffer.concat([hex('0c'), INTER1]), true)])).toEqual([]);
    expect(d.keyFrameNeeded).toBe(true);
  });

  it('puts the spatial layers of a picture into one superframe', () => {
    const low = bytes(50, 1);
    const high = bytes(70, 2);
    const ss = '30 00a0 0078 0140 00f0'; // N_S = 1, Y: 160x120 and 320x240
    const d2 = new Vp9Depacketizer();
    feed(d2, keyPackets(1, 100));
    const n = 1 + key.length;
    const out2 = feed(d2, [
      // SID 0 in two packets (P, L: TID 0 SID 0, TL0PICIDX 1; B and V on the first), then SID 1 (D)
      rtp(n, 200, Buffer.concat([hex('6a 00 01'), hex(ss), low.subarray(0, 20)])),
      rtp(n + 1, 200, Buffer.concat([hex('64 00 01'), low.subarray(20)])),
      rtp(n + 2, 200, Buffer.concat([hex('6c 03 01'), high]), true),
    ]);
    expect(out2.map((f) => [f.timestamp, f.keyFrame, f.width, f.height])).toEqual([[200, false, 320, 240]]);
    expect(splitVp9Superframe(out2[0].data).map((f) => f.toString('hex'))).toEqual([low.toString('hex'), high.toString('hex')]);
  });

  it('a layer frame without E ends where the next begins; a continuation after E damages the picture', () => {
    const d = new Vp9Depacketizer();
    feed(d, keyPackets(1, 100));
    const n = 1 + key.length;
    const a = bytes(5, 3);
    const b = bytes(6, 4);
    const out = feed(d, [rtp(n, 200, Buffer.concat([hex('48'), a])), rtp(n + 1, 200, Buffer.concat([hex('48'), b]), true)]);
    expect(splitVp9Superframe(out[0].data).map((f) => f.toString('hex'))).toEqual([a.toString('hex'), b.toString('hex')]);
    expect(feed(d, [rtp(n + 2, 300, Buffer.concat([hex('4c'), a])), rtp(n + 3, 300, Buffer.concat([hex('40'), b]), true)])).toEqual([]);
    expect(d.keyFrameNeeded).toBe(true);
  });

  it('after a loss waits for the next key frame', () => {
    const d = new Vp9Depacketizer();
    const n = 1 + key.length;
    const out = feed(d, [
      ...keyPackets(1, 100),
      rtp(n + 1, 200, Buffer.concat([hex('4c'), INTER1]), true), // n lost
      rtp(n + 2, 300, Buffer.concat([hex('4c'), INTER2]), true),
      ...keyPackets(n + 3, 400),
    ]);
    expect(out.map((f) => [f.timestamp, f.keyFrame])).toEqual([
      [100, true],
      [400, true],
    ]);
    expect(d.stats).toMatchObject({ lost: 1, droppedFrames: 2 });
  });

  it('throws MediaError for a malformed payload and keeps going', () => {
    const d = new Vp9Depacketizer();
    expect(() => d.push(rtp(1, 100, '88'))).toThrow(expect.objectContaining({ code: 'BAD_RTP_PAYLOAD' }));
    expect(feed(d, keyPackets(2, 200)).map((f) => f.timestamp)).toEqual([200]);
  });
});

describe('VP9 RTP round trip and damage (property)', () => {
  const streamArb = fc.array(fc.record({ size: fc.integer({ min: 1, max: 3000 }), seed: fc.nat() }), { maxLength: 6 }).map((fs) => [KEY, ...fs.map((f) => bytes(f.size, f.seed))]);

  function packets(frames: Buffer[], mtu: number, seq: number, pictureIds: boolean): RtpPacket[] {
    const stamper = new RtpStamper({ ssrc: 1, payloadType: 98, sequenceNumber: seq });
    const packetizer = new Vp9Packetizer({ mtu, pictureId: seq & 0x7fff });
    return frames.flatMap((f, i) => {
      const o = { keyFrame: i === 0 };
      const payloads = pictureIds ? packetizer.packetize(f, o) : packetizeVp9(f, { ...o, mtu });
      if (payloads.some((p) => p.payload.length > mtu)) throw new Error(`a payload over the MTU ${mtu}`);
      return payloads.map((p) => stamper.packet(p, i * 3000));
    });
  }

  it('rebuilds any frames at any MTU, with or without PictureIDs', () => {
    fc.assert(
      fc.property(streamArb, fc.oneof(fc.integer({ min: 9, max: 40 }), fc.integer({ min: 41, max: 1500 })), fc.integer({ min: 0, max: 0xffff }), fc.boolean(), (frames, mtu, seq, pictureIds) => {
        const out = feed(new Vp9Depacketizer(), packets(frames, mtu, seq, pictureIds));
        expect(out.map((f) => f.data.toString('hex'))).toEqual(frames.map((f) => f.toString('hex')));
        expect(out.map((f) => f.keyFrame)).toEqual(frames.map((_f, i) => i === 0));
        expect(out[0]).toMatchObject({ width: 320, height: 240 });
      }),
      { numRuns: 100 },
    );
  });

  it('on dropped, duplicated, reordered or bit-flipped packets: only MediaError, bounded memory, a key frame first', () => {
    fc.assert(
      fc.property(streamArb, fc.constantFrom(50, 300, 1200), fc.integer({ min: 0, max: 0xffff }), fc.array(packetMutationArb, { minLength: 1, maxLength: 8 }), (frames, mtu, seq, ops) => {
        const out = depacketizeAll(new Vp9Depacketizer({ maxFrameSize: 8000 }), mutatePackets(packets(frames, mtu, seq, true), ops), 8000 + mtu);
        if (out.length) expect(out[0].keyFrame).toBe(true);
        if (ops.every((o) => o.kind !== 'flip')) {
          const sent = new Set(frames.map((f) => f.toString('hex')));
          for (const f of out) expect(sent.has(f.data.toString('hex'))).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('never throws anything but MediaError on random payloads', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 24 }), fc.boolean(), fc.integer({ min: 0, max: 3 })), { maxLength: 20 }), (items) => {
        const d = new Vp9Depacketizer();
        items.forEach(([payload, marker, ts], i) => {
          try {
            d.push(rtp(i, ts, Buffer.from(payload), marker));
          } catch (e) {
            if (!(e instanceof MediaError)) throw e;
          }
        });
        d.flushPending();
      }),
      { numRuns: 500 },
    );
  });
});
