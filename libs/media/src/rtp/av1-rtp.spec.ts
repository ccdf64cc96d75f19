import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { av1TemporalUnits, makeTempDir, removeTempDir } from '@m7s/test-kit/fixtures';
import { run } from '@m7s/test-kit/process';
import { ffmpegPath } from '@m7s/test-kit/tools';
import { fixture } from '../../test-fixtures/fixtures';
import { Av1ObuType, buildAv1C, isAv1KeyFrame, splitObus, writeLeb128 } from '../codecs/av1';
import { MediaError } from '../media.errors';
import { depacketizeAll, mutatePackets, packetMutationArb } from './rtp-test-mutations';
import { Av1Depacketizer, packetizeAv1, parseAv1RtpPayload } from './av1-rtp';
import { RtpVideoFrame } from './frame-depacketizer';
import { RtpPacket, RtpStamper } from './rtp-packet';
import { RtpTrackReceiver } from './rtp-track';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const hexOf = (b: Buffer) => b.toString('hex');

function rtp(seq: number, ts: number, payload: string | Buffer, marker = false): RtpPacket {
  return { marker, payloadType: 45, sequenceNumber: seq & 0xffff, timestamp: ts, ssrc: 1, csrcs: [], payload: typeof payload === 'string' ? hex(payload) : payload, paddingSize: 0 };
}

function feed(d: Av1Depacketizer, pkts: RtpPacket[]): RtpVideoFrame[] {
  return [...pkts.flatMap((p) => d.push(p)), ...d.flushPending()];
}

const show = (frames: RtpVideoFrame[]) => frames.map((f) => [f.timestamp, f.keyFrame, hexOf(f.data)]);

/** An OBU in low-overhead form (with obu_size): header byte of `type`, optional extension byte, payload. */
function obu(type: number, payload: Buffer | string, ext?: { tid: number; sid: number }): Buffer {
  const body = typeof payload === 'string' ? hex(payload) : payload;
  const head = ext ? Buffer.of((type << 3) | 0x06, (ext.tid << 5) | (ext.sid << 3)) : Buffer.of((type << 3) | 0x02);
  return Buffer.concat([head, writeLeb128(body.length), body]);
}

// Hand-made OBUs. Sequence header payloads here are not parsed: isAv1KeyFrame only reads the first byte of a
// frame (show_existing_frame, frame_type: 0x10 = key frame shown, 0x30 = inter frame).
const SH = 0x08; // sequence header, no size field
const FRAME = 0x30; // frame, no size field

describe('parseAv1RtpPayload (AV1 RTP spec 4.4, 4.5)', () => {
  it.each<[string, string, object, string[]]>([
    ['W=0: every element with a length', '00 02 0a0b 01 0c', { continuation: false, continues: false, w: 0, newSequence: false }, ['0a0b', '0c']],
    ['W=1: one element without a length', '10 0a0b0c', { w: 1 }, ['0a0b0c']],
    ['W=2: the last element without a length', '20 02 0a0b 0c0d0e', { w: 2 }, ['0a0b', '0c0d0e']],
    ['W=3', '30 01 aa 01 bb ccdd', { w: 3 }, ['aa', 'bb', 'ccdd']],
    ['Z and Y: a middle fragment', 'd0 0102', { continuation: true, continues: true, w: 1 }, ['0102']],
    ['N: first packet of a coded video sequence', '18 0a', { newSequence: true, w: 1 }, ['0a']],
  ])('%s', (_n, h, header, elements) => {
    const p = parseAv1RtpPayload(hex(h));
    expect(p).toMatchObject(header);
    expect(p.elements.map(hexOf)).toEqual(elements);
  });

  it('the spec example: 303 bytes, W=2, a 200-byte element with a 2-byte length, the last 100 bytes', () => {
    const payload = Buffer.concat([hex('20 c801'), Buffer.alloc(200, 1), Buffer.alloc(100, 2)]);
    expect(payload.length).toBe(303);
    expect(parseAv1RtpPayload(payload).elements.map((e) => e.length)).toEqual([200, 100]);
  });

  it.each([
    ['empty', ''],
    ['only the aggregation header', '10'],
    ['a length past the end', '00 05 aabb'],
    ['fewer elements than W', '30 01 aa'],
    ['a length cut', '00 80'],
    ['a length over 8 bytes', '00 ffffffffffffffffff 00'],
    ['N with Z', 'd8 0a'],
  ])('rejects %s with BAD_RTP_PAYLOAD', (_n, h) => {
    expect(() => parseAv1RtpPayload(hex(h))).toThrow(expect.objectContaining({ code: 'BAD_RTP_PAYLOAD' }));
  });
});

describe('packetizeAv1', () => {
  const keyTu = Buffer.concat([obu(2, ''), obu(1, 'aa'), obu(6, '10 1122')]);

  it.each<[string, Buffer, number, string[]]>([
    ['temporal delimiter dropped, size fields stripped, W=2, N on a sequence header with a key frame', keyTu, 1200, ['28 02 08aa 30101122']],
    ['a fragment per packet at a small MTU', obu(6, '30 0102030405'), 4, ['50 303001', 'd0 020304', '90 05']],
    ['an OBU that fits a packet of its own is not fragmented; alone it needs no length', Buffer.concat([obu(5, 'aa'), obu(6, '30 01020304')]), 7, ['10 28aa', '10 303001020304']],
    ['four elements: W=0, every element with a length', Buffer.concat([obu(5, '01'), obu(5, '02'), obu(5, '03'), obu(5, '04')]), 1200, ['00 02 2801 02 2802 02 2803 02 2804']],
    ['padding and tile lists are not sent', Buffer.concat([obu(15, '0000'), obu(8, '01'), obu(6, '30')]), 1200, ['10 3030']],
    ['OBUs of two layers go in two packets', Buffer.concat([obu(6, '30', { tid: 0, sid: 0 }), obu(6, '31', { tid: 0, sid: 1 })]), 1200, ['10 340030', '10 340831']],
  ])('%s', (_n, tu, mtu, want) => {
    const out = packetizeAv1(tu, { mtu });
    expect(out.map((p) => hexOf(p.payload))).toEqual(want.map((w) => hexOf(hex(w))));
    expect(out.map((p) => p.marker)).toEqual(want.map((_w, i) => i === want.length - 1));
    expect(out.every((p) => p.payload.length <= mtu)).toBe(true);
  });

  it('N can be forced either way; a temporal unit of only a delimiter gives nothing', () => {
    expect(packetizeAv1(keyTu, { newCodedVideoSequence: false })[0].payload[0] & 0x08).toBe(0);
    expect(packetizeAv1(obu(6, '30'), { newCodedVideoSequence: true })[0].payload[0] & 0x08).toBe(0x08);
    expect(packetizeAv1(obu(2, ''))).toEqual([]);
  });

  it('rejects an MTU under 3 and broken OBU framing', () => {
    expect(() => packetizeAv1(keyTu, { mtu: 2 })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => packetizeAv1(hex('32 05 00'))).toThrow(expect.objectContaining({ code: 'BAD_OBU' }));
  });
});

describe('Av1Depacketizer', () => {
  it('aggregated OBUs come out with size fields; the temporal delimiter is dropped; key from a sequence header and key frame', () => {
    const d = new Av1Depacketizer();
    const out = feed(d, [rtp(1, 100, `30 01 10 02 ${SH.toString(16).padStart(2, '0')}aa ${FRAME.toString(16)}10`, true), rtp(2, 200, '10 3030', true)]);
    expect(show(out)).toEqual([
      [100, true, '0a01aa320110'],
      [200, false, '320130'],
    ]);
    expect(d.stats).toMatchObject({ frames: 2, droppedFrames: 0 });
  });

  it('joins an OBU fragmented over three packets', () => {
    const out = feed(new Av1Depacketizer(), [rtp(7, 100, '60 02 08aa 3010aabb'), rtp(8, 100, 'd0 ccdd'), rtp(9, 100, '90 eeff', true)]);
    expect(show(out)).toEqual([[100, true, '0a01aa320710aabbccddeeff']]);
  });

  it('N marks a key frame without a sequence header; a key frame alone does not', () => {
    expect(show(feed(new Av1Depacketizer(), [rtp(1, 100, '18 3010', true)]))).toEqual([[100, true, '320110']]);
    expect(feed(new Av1Depacketizer(), [rtp(1, 100, '10 3010', true)])).toEqual([]);
  });

  it('keeps OBUs that have a size field, trims bytes after it, adds one under an extension header', () => {
    // W=3: a sequence header with its size, a key frame with its size and a byte after it, a frame with an extension header and no size
    const out = feed(new Av1Depacketizer(), [rtp(1, 100, '30 03 0a01aa 04 320110ff 34200011', true)]);
    expect(show(out)).toEqual([[100, true, hexOf(hex('0a01aa 320110 3620020011'))]]);
  });

  it('drops a temporal unit with an OBU whose size field runs past its element', () => {
    const d = new Av1Depacketizer();
    expect(feed(d, [rtp(1, 100, '20 02 08aa 3205 10', true)])).toEqual([]);
    expect(d.stats.droppedFrames).toBe(1);
    expect(d.keyFrameNeeded).toBe(true);
  });

  it('a temporal unit of only a delimiter or a tile list gives nothing, and is no loss', () => {
    const d = new Av1Depacketizer();
    feed(d, [rtp(1, 100, '20 01 08 3010', true)]);
    expect(feed(d, [rtp(2, 200, '10 10', true), rtp(3, 300, '10 4000', true)])).toEqual([]);
    expect(d.stats).toMatchObject({ frames: 1, droppedFrames: 0 });
    expect(d.keyFrameNeeded).toBe(false);
  });

  it('a lost fragment drops the temporal unit and what follows up to the next key frame', () => {
    const d = new Av1Depacketizer();
    const out = feed(d, [
      rtp(1, 100, '20 01 08 3010', true),
      rtp(2, 200, '50 3030'),
      // 3 lost (Z=1, Y=1)
      rtp(4, 200, '90 11', true),
      rtp(5, 300, '10 3030', true),
      rtp(6, 400, '20 01 08 3010', true),
    ]);
    expect(out.map((f) => f.timestamp)).toEqual([100, 400]);
    expect(d.stats).toMatchObject({ lost: 1, droppedFrames: 2 });
  });

  it('a packet continuing a fragment that never started, or a fragment never continued, damages the unit', () => {
    const d = new Av1Depacketizer();
    expect(feed(d, [rtp(1, 100, '90 3010', true)])).toEqual([]);
    expect(feed(d, [rtp(2, 200, '50 0801'), rtp(3, 200, '10 3010', true)])).toEqual([]);
    // Y on the last packet: the OBU never ends
    expect(feed(d, [rtp(4, 300, '60 01 08 3010', true)])).toEqual([]);
    expect(d.keyFrameNeeded).toBe(true);
    expect(show(feed(d, [rtp(5, 400, '20 01 08 3010', true)]))).toEqual([[400, true, '0a00320110']]);
  });

  it('throws MediaError for a malformed payload and keeps going', () => {
    const d = new Av1Depacketizer();
    expect(() => d.push(rtp(1, 100, '10'))).toThrow(expect.objectContaining({ code: 'BAD_RTP_PAYLOAD' }));
    expect(feed(d, [rtp(2, 200, '20 01 08 3010', true)]).map((f) => f.timestamp)).toEqual([200]);
  });
});

describe('AV1 RTP round trip and damage (property)', () => {
  const obuArb = fc.record({
    type: fc.constantFrom(2, 3, 4, 5, 6, 15),
    ext: fc.option(fc.record({ tid: fc.integer({ min: 0, max: 7 }), sid: fc.integer({ min: 0, max: 3 }) }), { nil: undefined }),
    payload: fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ minLength: 100, maxLength: 3000 })),
  });
  const inter = (o: { type: number; payload: Uint8Array }) => {
    const p = Buffer.from(o.payload);
    // a frame (header) of a later temporal unit is an inter frame
    if ((o.type === 3 || o.type === 6) && p.length) p[0] = 0x30;
    return (o.type === 3 || o.type === 6) && p.length === 0 ? hex('30') : p;
  };
  const streamArb = fc
    .tuple(fc.uint8Array({ maxLength: 20 }), fc.array(fc.array(obuArb, { minLength: 1, maxLength: 6 }), { maxLength: 5 }))
    .map(([sh, rest]) => [
      Buffer.concat([obu(2, ''), obu(1, Buffer.from(sh)), obu(6, '10 0102')]),
      ...rest.map((tu) => Buffer.concat(tu.map((o) => obu(o.type, inter(o), o.ext)))),
    ]);
  /** What should come back: the temporal unit without delimiters and padding. */
  const expected = (tu: Buffer) => hexOf(Buffer.concat(splitObus(tu).filter((x) => x.type !== Av1ObuType.TEMPORAL_DELIMITER && x.type !== Av1ObuType.PADDING).map((x) => x.obu)));

  function packets(tus: Buffer[], mtu: number, seq: number): RtpPacket[] {
    const stamper = new RtpStamper({ ssrc: 1, payloadType: 45, sequenceNumber: seq });
    return tus.flatMap((tu, i) => {
      const payloads = packetizeAv1(tu, { mtu });
      if (payloads.some((p) => p.payload.length > mtu)) throw new Error(`a payload over the MTU ${mtu}`);
      return payloads.map((p) => stamper.packet(p, i * 3000));
    });
  }

  it('rebuilds any temporal units at any MTU', () => {
    fc.assert(
      fc.property(streamArb, fc.oneof(fc.integer({ min: 3, max: 40 }), fc.integer({ min: 41, max: 1500 })), fc.integer({ min: 0, max: 0xffff }), (tus, mtu, seq) => {
        const want = tus.map(expected).filter((h) => h.length > 0);
        const out = feed(new Av1Depacketizer(), packets(tus, mtu, seq));
        expect(out.map((f) => hexOf(f.data))).toEqual(want);
        expect(out.map((f) => f.keyFrame)).toEqual(want.map((_h, i) => i === 0));
      }),
      { numRuns: 150 },
    );
  });

  it('on dropped, duplicated, reordered or bit-flipped packets: only MediaError, bounded memory, a key frame first', () => {
    fc.assert(
      fc.property(streamArb, fc.constantFrom(20, 300, 1200), fc.integer({ min: 0, max: 0xffff }), fc.array(packetMutationArb, { minLength: 1, maxLength: 8 }), (tus, mtu, seq, ops) => {
        const out = depacketizeAll(new Av1Depacketizer({ maxFrameSize: 10_000 }), mutatePackets(packets(tus, mtu, seq), ops), 10_000 + mtu);
        if (out.length) expect(out[0].keyFrame).toBe(true);
        if (ops.every((o) => o.kind !== 'flip')) {
          const sent = new Set(tus.map(expected));
          for (const f of out) expect(sent.has(hexOf(f.data))).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('never throws anything but MediaError on random payloads', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 24 }), fc.boolean(), fc.integer({ min: 0, max: 3 })), { maxLength: 20 }), (items) => {
        const d = new Av1Depacketizer();
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

describe('AV1 RTP with libaom streams (ffmpeg)', () => {
  let dir: string;
  let file: string;
  let tus: Buffer[];

  beforeAll(async () => {
    dir = await makeTempDir('m7s-av1-rtp-');
    file = join(dir, 'sent.obu');
    const r = await run(ffmpegPath(), [
      '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-frames:v', '25',
      '-c:v', 'libaom-av1', '-usage', 'realtime', '-cpu-used', '8', '-g', '10', '-f', 'obu', file,
    ]);
    if (r.code !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
    tus = av1TemporalUnits(await readFile(file));
  });
  afterAll(() => removeTempDir(dir));

  it.each([1200, 300, 40])('packetizes and rebuilds every temporal unit at MTU %d; ffmpeg decodes the rebuilt stream as the original', async (mtu) => {
    expect(tus.length).toBe(25);
    const receiver = new RtpTrackReceiver({ kind: 'video', payloadType: 45, encoding: 'AV1', clockRate: 90000, fmtp: {} });
    const stamper = new RtpStamper({ ssrc: 1, payloadType: 45, sequenceNumber: 65500 });
    const out = tus.flatMap((tu, i) => packetizeAv1(tu, { mtu }).flatMap((p) => receiver.push(stamper.packet(p, i * 3600))));
    expect(out.map((f) => hexOf(f.data[0]))).toEqual(tus.map(hexOf));
    const keys = out.flatMap((f, i) => (f.keyFrame ? [i] : []));
    expect(keys).toEqual([0, 10, 20]);
    expect(tus.flatMap((tu, i) => (isAv1KeyFrame(tu) ? [i] : []))).toEqual(keys);
    expect(receiver.config).toMatchObject({ kind: 'video', codec: 'av1', width: 320, height: 240, record: buildAv1C(tus[0]) });

    // back to an OBU stream (a temporal delimiter before each unit) for ffmpeg to decode
    const rebuilt = join(dir, `rebuilt-${mtu}.obu`);
    await writeFile(rebuilt, Buffer.concat(out.flatMap((f) => [obu(2, ''), f.data[0]])));
    const crcs = async (path: string) => {
      const r = await run(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-f', 'obu', '-i', path, '-f', 'framecrc', '-']);
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter((l) => l && !l.startsWith('#'));
    };
    const want = await crcs(file);
    expect(want.length).toBe(25);
    expect(await crcs(rebuilt)).toEqual(want);
  });

  it('the libs/media fixture (3 temporal units) round-trips too', () => {
    const fixtureTus = av1TemporalUnits(fixture('av1-320x240.obu'));
    const d = new Av1Depacketizer();
    const stamper = new RtpStamper({ ssrc: 1, payloadType: 45, sequenceNumber: 0 });
    const out = fixtureTus.flatMap((tu, i) => packetizeAv1(tu, { mtu: 500 }).flatMap((p) => d.push(stamper.packet(p, i * 3600))));
    expect(out.map((f) => hexOf(f.data))).toEqual(fixtureTus.map(hexOf));
    expect(out.map((f) => f.keyFrame)).toEqual([true, false, false]);
  });
});
