import fc from 'fast-check';
import { MediaError } from '../media.errors';
import { depacketizeAll, mutatePackets, packetMutationArb } from './rtp-test-mutations';
import { RtpVideoFrame } from './frame-depacketizer';
import { RtpPacket, RtpStamper } from './rtp-packet';
import { packetizeVp8, parseVp8PayloadDescriptor, Vp8Depacketizer, Vp8Packetizer } from './vp8-rtp';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A VP8 frame of `size` bytes: the P bit of its tag says key or not, then pseudo-random bytes. */
function frame(key: boolean, size: number, seed = size): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  b[0] = (b[0] & 0xfe) | (key ? 0 : 1);
  return b;
}

function rtp(seq: number, ts: number, payload: string | Buffer, marker = false): RtpPacket {
  return { marker, payloadType: 96, sequenceNumber: seq & 0xffff, timestamp: ts, ssrc: 1, csrcs: [], payload: typeof payload === 'string' ? hex(payload) : payload, paddingSize: 0 };
}

function feed(d: Vp8Depacketizer, pkts: RtpPacket[]): RtpVideoFrame[] {
  return [...pkts.flatMap((p) => d.push(p)), ...d.flushPending()];
}

const show = (frames: RtpVideoFrame[]) => frames.map((f) => [f.timestamp, f.keyFrame, f.data.toString('hex')]);

describe('parseVp8PayloadDescriptor (RFC 7741 4.2)', () => {
  it.each<[string, string, object]>([
    ['1 byte: S, partition 0', '10 aa', { nonReference: false, start: true, partitionId: 0, size: 1 }],
    ['1 byte: N, partition 3, not a start', '23 aa', { nonReference: true, start: false, partitionId: 3, size: 1 }],
    ['X without extensions', '80 00 aa', { size: 2 }],
    ['7-bit PictureID', '90 80 12 aa', { start: true, pictureId: 0x12, longPictureId: false, size: 3 }],
    ['15-bit PictureID (M=1), what ffmpeg sends', '90 80 8123 aa', { pictureId: 0x123, longPictureId: true, size: 4 }],
    ['all fields: N, 15-bit PictureID, TL0PICIDX, TID=3 Y=1, KEYIDX=7', 'b0 f0 8123 05 e7 aa', { nonReference: true, start: true, pictureId: 0x123, tl0PicIdx: 5, temporalId: 3, layerSync: true, keyIdx: 7, size: 6 }],
    ['T without K: TID, no KEYIDX', '83 20 40 aa', { partitionId: 3, temporalId: 1, layerSync: false, size: 3 }],
    ['K without T: KEYIDX, no TID', '80 10 1f aa', { keyIdx: 31, size: 3 }],
    ['L and T (TL0PICIDX then TID)', '80 60 07 80 aa', { tl0PicIdx: 7, temporalId: 2, size: 4 }],
  ])('%s', (_n, h, want) => {
    const d = parseVp8PayloadDescriptor(hex(h));
    expect(d).toMatchObject(want);
    if (!('temporalId' in want)) expect(d.temporalId).toBeUndefined();
    if (!('keyIdx' in want)) expect(d.keyIdx).toBeUndefined();
    if (!('pictureId' in want)) expect(d.pictureId).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['no VP8 data after 1 byte', '10'],
    ['X byte missing', '90'],
    ['PictureID missing', '90 80'],
    ['second PictureID byte missing', '90 80 81'],
    ['TL0PICIDX missing', '80 40'],
    ['TID/KEYIDX missing', '80 20'],
    ['no VP8 data after all fields', 'b0 f0 8123 05 e7'],
  ])('rejects %s with BAD_RTP_PAYLOAD', (_n, h) => {
    expect(() => parseVp8PayloadDescriptor(hex(h))).toThrow(expect.objectContaining({ code: 'BAD_RTP_PAYLOAD' }));
  });
});

describe('packetizeVp8', () => {
  it.each<[string, string, object, string[]]>([
    ['one packet, 1-byte descriptor', '00 0102', {}, ['10 000102']],
    ['equal pieces at MTU 3', '00 01020304', { mtu: 3 }, ['10 0001', '00 0203', '00 04']],
    ['15-bit PictureID on every packet, S on the first', '00 010203', { mtu: 6, pictureId: 0x1234 }, ['90 80 9234 0001', '80 80 9234 0203']],
    ['N for a non-reference frame', '01 02', { nonReference: true }, ['30 0102']],
  ])('%s', (_n, f, o, want) => {
    const out = packetizeVp8(hex(f), o);
    expect(out.map((p) => p.payload.toString('hex'))).toEqual(want.map((w) => hex(w).toString('hex')));
    expect(out.map((p) => p.marker)).toEqual(want.map((_w, i) => i === want.length - 1));
  });

  it('gives nothing for an empty frame', () => {
    expect(packetizeVp8(Buffer.alloc(0))).toEqual([]);
  });

  it.each<[object]>([[{ mtu: 1 }], [{ mtu: 4, pictureId: 1 }], [{ mtu: 2.5 }], [{ pictureId: 0x8000 }], [{ pictureId: -1 }]])('rejects %j', (o) => {
    expect(() => packetizeVp8(hex('0001'), o)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('Vp8Packetizer numbers frames, wrapping at 15 bits', () => {
    const p = new Vp8Packetizer({ pictureId: 0x7ffe });
    const ids = [frame(true, 10), frame(false, 10), frame(false, 10)].map((f) => parseVp8PayloadDescriptor(p.packetize(f)[0].payload).pictureId);
    expect(ids).toEqual([0x7ffe, 0x7fff, 0]);
    expect(p.packetize(Buffer.alloc(0))).toEqual([]);
    expect(parseVp8PayloadDescriptor(p.packetize(frame(false, 10))[0].payload).pictureId).toBe(1);
  });
});

describe('Vp8Depacketizer', () => {
  it('joins the packets of a frame from S=1/partition 0 to the marker; key from the P bit', () => {
    const d = new Vp8Depacketizer();
    const out = feed(d, [rtp(1, 100, '90 80 8001 00aa'), rtp(2, 100, '81 80 8001 bb'), rtp(3, 100, '80 80 8001 cc', true), rtp(4, 200, '10 01dd', true)]);
    expect(show(out)).toEqual([
      [100, true, '00aabbcc'],
      [200, false, '01dd'],
    ]);
    expect(d.keyFrameNeeded).toBe(false);
    expect(d.stats).toEqual({ packets: 4, lost: 0, duplicates: 0, late: 0, frames: 2, droppedFrames: 0 });
  });

  it('drops frames before the first key frame', () => {
    const d = new Vp8Depacketizer();
    expect(feed(d, [rtp(1, 100, '10 01aa', true), rtp(2, 200, '10 00bb', true), rtp(3, 300, '10 01cc', true)]).map((f) => f.timestamp)).toEqual([200, 300]);
    expect(d.stats.droppedFrames).toBe(1);
  });

  it('after a loss drops the damaged frame and what follows up to the next key frame', () => {
    const d = new Vp8Depacketizer();
    const out = feed(d, [
      rtp(1, 100, '10 00aa', true),
      rtp(2, 200, '10 01bb'),
      // 3 lost: the end of frame 200
      rtp(4, 300, '10 01cc', true),
      rtp(5, 400, '10 00dd', true),
      rtp(6, 500, '10 01ee', true),
    ]);
    expect(show(out)).toEqual([
      [100, true, '00aa'],
      [400, true, '00dd'],
      [500, false, '01ee'],
    ]);
    expect(d.stats).toMatchObject({ lost: 1, frames: 3, droppedFrames: 2 });
  });

  it('a frame whose first packet is lost is dropped, and so is a whole frame lost between two', () => {
    const d = new Vp8Depacketizer();
    feed(d, [rtp(1, 100, '10 00aa', true)]);
    expect(d.push(rtp(3, 200, '00 bb', true))).toEqual([]);
    expect(d.keyFrameNeeded).toBe(true);
    expect(d.push(rtp(5, 400, '10 01cc', true))).toEqual([]);
    expect(show(d.push(rtp(6, 500, '10 00dd', true)))).toEqual([[500, true, '00dd']]);
  });

  it('joining in the middle of a frame waits for the next frame start', () => {
    const d = new Vp8Depacketizer();
    expect(feed(d, [rtp(7, 100, '00 aa'), rtp(8, 100, '00 bb', true), rtp(9, 200, '10 00cc', true)]).map((f) => f.timestamp)).toEqual([200]);
  });

  it('ends a frame when the timestamp changes or a new frame starts without a marker', () => {
    const d = new Vp8Depacketizer();
    expect(d.push(rtp(1, 100, '10 00aa'))).toEqual([]);
    expect(show(d.push(rtp(2, 200, '10 01bb')))).toEqual([[100, true, '00aa']]);
    expect(show(d.push(rtp(3, 200, '10 01cc')))).toEqual([[200, false, '01bb']]);
    expect(show(d.flushPending())).toEqual([[200, false, '01cc']]);
  });

  it('ignores duplicates and late packets; a far jump back is a restart that needs a key frame', () => {
    const d = new Vp8Depacketizer();
    const out = feed(d, [rtp(10, 100, '10 00aa'), rtp(10, 100, '10 00aa'), rtp(11, 100, '00 bb', true), rtp(9, 100, '00 cc', true), rtp(12, 200, '10 01dd', true)]);
    expect(show(out)).toEqual([
      [100, true, '00aabb'],
      [200, false, '01dd'],
    ]);
    expect(d.stats).toMatchObject({ duplicates: 1, late: 1, lost: 0 });
    expect(d.push(rtp(12 - 200, 300, '10 01ee', true))).toEqual([]);
    expect(d.stats.lost).toBe(1);
    expect(d.keyFrameNeeded).toBe(true);
  });

  it('a padding-only packet (empty payload) takes its sequence number and nothing else', () => {
    const d = new Vp8Depacketizer();
    const out = feed(d, [rtp(1, 100, '10 00aa'), rtp(2, 100, ''), rtp(3, 100, '00 bb', true), rtp(4, 100, ''), rtp(5, 200, '10 01cc', true)]);
    expect(show(out)).toEqual([
      [100, true, '00aabb'],
      [200, false, '01cc'],
    ]);
    expect(d.stats).toMatchObject({ lost: 0, droppedFrames: 0 });
    // after a gap it is a loss like any other packet
    expect(d.push(rtp(7, 300, ''))).toEqual([]);
    expect(d.keyFrameNeeded).toBe(true);
    expect(d.push(rtp(8, 400, '10 01dd', true))).toEqual([]);
  });

  it('reassembles across the sequence wrap at 65535', () => {
    expect(show(feed(new Vp8Depacketizer(), [rtp(65535, 1, '10 00aa'), rtp(0, 1, '00 bb', true)]))).toEqual([[1, true, '00aabb']]);
  });

  it('throws MediaError for a malformed payload, drops its frame and keeps going', () => {
    const d = new Vp8Depacketizer();
    d.push(rtp(1, 100, '10 00aa'));
    expect(() => d.push(rtp(2, 100, '90 80'))).toThrow(expect.objectContaining({ code: 'BAD_RTP_PAYLOAD' }));
    expect(d.push(rtp(3, 100, '00 cc', true))).toEqual([]);
    expect(show(d.push(rtp(4, 200, '10 00dd', true)))).toEqual([[200, true, '00dd']]);
  });

  it('drops a frame over maxFrameSize and lets its data go', () => {
    const d = new Vp8Depacketizer({ maxFrameSize: 5 });
    d.push(rtp(1, 100, '10 00010203'));
    expect(d.bufferedBytes).toBe(4);
    d.push(rtp(2, 100, '00 0405'));
    expect(d.bufferedBytes).toBe(0);
    expect(d.push(rtp(3, 100, '00 06', true))).toEqual([]);
    expect(show(d.push(rtp(4, 200, '10 00', true)))).toEqual([[200, true, '00']]);
  });
});

describe('VP8 RTP round trip and damage (property)', () => {
  const frameArb = fc.record({ key: fc.boolean(), size: fc.integer({ min: 1, max: 3000 }), seed: fc.nat() });
  const streamArb = fc.array(frameArb, { minLength: 1, maxLength: 8 }).map((fs) => [{ ...fs[0], key: true }, ...fs.slice(1)].map((f) => frame(f.key, f.size, f.seed)));

  function packets(frames: Buffer[], mtu: number, seq: number, pictureIds: boolean): RtpPacket[] {
    const stamper = new RtpStamper({ ssrc: 1, payloadType: 96, sequenceNumber: seq });
    const packetizer = new Vp8Packetizer({ mtu, pictureId: seq & 0x7fff });
    return frames.flatMap((f, i) => {
      const payloads = pictureIds ? packetizer.packetize(f) : packetizeVp8(f, { mtu });
      if (payloads.some((p) => p.payload.length > mtu)) throw new Error(`a payload over the MTU ${mtu}`);
      return payloads.map((p) => stamper.packet(p, i * 3000));
    });
  }

  it('rebuilds any frames at any MTU, with or without PictureIDs', () => {
    fc.assert(
      fc.property(streamArb, fc.oneof(fc.integer({ min: 5, max: 40 }), fc.integer({ min: 41, max: 1500 })), fc.integer({ min: 0, max: 0xffff }), fc.boolean(), (frames, mtu, seq, pictureIds) => {
        const out = feed(new Vp8Depacketizer(), packets(frames, mtu, seq, pictureIds));
        expect(out.map((f) => f.data.toString('hex'))).toEqual(frames.map((f) => f.toString('hex')));
        expect(out.map((f) => f.keyFrame)).toEqual(frames.map((f) => (f[0] & 1) === 0));
        expect(out.map((f) => f.timestamp)).toEqual(frames.map((_f, i) => i * 3000));
      }),
      { numRuns: 150 },
    );
  });

  it('on dropped, duplicated, reordered or bit-flipped packets: only MediaError, bounded memory, only sent frames, a key frame first', () => {
    fc.assert(
      fc.property(streamArb, fc.constantFrom(50, 300, 1200), fc.integer({ min: 0, max: 0xffff }), fc.array(packetMutationArb, { minLength: 1, maxLength: 8 }), (frames, mtu, seq, ops) => {
        const out = depacketizeAll(new Vp8Depacketizer({ maxFrameSize: 8000 }), mutatePackets(packets(frames, mtu, seq, true), ops), 8000 + mtu);
        // (no flushPending: a stream cut inside a frame leaves a frame that cannot be known incomplete)
        if (out.length) expect(out[0].keyFrame).toBe(true);
        // a bit flip inside the data goes unnoticed (no checksum in RTP): only whole-frame identity is checked for clean runs
        if (ops.every((o) => o.kind !== 'flip')) {
          const sent = new Set(frames.map((f) => f.toString('hex')));
          for (const f of out) expect(sent.has(f.data.toString('hex'))).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('never throws anything but MediaError on random payloads', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 24 }), fc.boolean(), fc.integer({ min: 0, max: 3 })), { maxLength: 20 }), (items) => {
        const d = new Vp8Depacketizer();
        items.forEach(([payload, marker, ts], i) => {
          try {
            d.push(rtp(i, ts, Buffer.from(payload), marker));
          } catch (e) {
            expect(e).toBeInstanceOf(MediaError);
          }
        });
        d.flushPending();
      }),
      { numRuns: 500 },
    );
  });
});
