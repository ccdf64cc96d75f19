import fc from 'fast-check';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { MediaError } from '../media.errors';
import { readMp4Index } from './mp4-reader';
import {
  aacTrack,
  av1Track,
  bufferSource,
  buildFmp4,
  ffmpeg,
  g711Track,
  h264Track,
  h265Track,
  makeTempDir,
  opusTrack,
  probePackets,
  removeDir,
  TestTrack,
  toSample,
  vp9Track,
} from './mp4-test-fixtures';
import { Mp4Index } from './mp4.types';

let dir: string;
beforeAll(() => (dir = makeTempDir()));
afterAll(() => removeDir(dir));

function sampleBytes(file: Buffer, index: Mp4Index, track: number): Buffer[] {
  return index.tracks[track].samples.map((s) => file.subarray(s.offset, s.offset + s.size));
}

/** The index agrees with ffprobe on every packet: decode/presentation time, size, position, key flag. */
function expectLikeFfprobe(file: string, index: Mp4Index): void {
  index.tracks.forEach((t, i) => {
    const packets = probePackets(file, i);
    expect(t.samples.length).toBe(packets.length);
    const mine = t.samples.map((s) => ({ dts: s.dts, pts: s.dts + s.cts, size: s.size, pos: s.offset, key: s.keyFrame }));
    expect(mine).toEqual(packets);
  });
}

describe('readMp4Index: fragmented files written by buildFragment', () => {
  let tracks: TestTrack[];
  let file: Buffer;
  let fragmentEnds: number[];
  beforeAll(() => {
    tracks = [h264Track(dir, 2), aacTrack(dir, 2)];
    ({ file, fragmentEnds } = buildFmp4(tracks, 0.5));
  });

  it('reads back tracks, sample times, flags and data', async () => {
    const source = bufferSource(file);
    const index = await readMp4Index(source);
    expect(index).toMatchObject({ fragmented: true, complete: true, validEnd: file.length });
    index.tracks.forEach((t, i) => {
      const want = tracks[i];
      expect(t.track.id).toBe(want.track.id);
      expect(t.track.timescale).toBe(want.track.timescale);
      expect(t.track.config).toEqual(want.track.config);
      const expected = want.frames.map((f) => toSample(want, f));
      expect(t.samples.map(({ offset: _offset, ...s }) => s)).toEqual(expected.map((e) => e.sample));
      expect(sampleBytes(file, index, i)).toEqual(expected.map((e) => Buffer.concat(e.data)));
    });
    // only box headers and the moov/moof boxes are read, not the media data
    const mdatBytes = index.tracks.flatMap((t) => t.samples).reduce((sum, s) => sum + s.size, 0);
    expect(source.bytesRead).toBeLessThan(file.length - mdatBytes + 16 * 20);
  });

  it('ignores a torn tail: cut inside a fragment data, inside a moof, inside a box header', async () => {
    const full = await readMp4Index(bufferSource(file));
    const count = (ix: Mp4Index) => ix.tracks.map((t) => t.samples.length);
    const cuts = [fragmentEnds[1] + 300, fragmentEnds[1] + 20, fragmentEnds[1] + 5, fragmentEnds[2] - 1];
    for (const cut of cuts) {
      const index = await readMp4Index(bufferSource(file.subarray(0, cut)));
      const end = fragmentEnds[1];
      expect(index).toMatchObject({ fragmented: true, complete: false, validEnd: end });
      const kept = full.tracks.map((t) => t.samples.filter((s) => s.offset + s.size <= end).length);
      expect(count(index)).toEqual(kept);
    }
    const exact = await readMp4Index(bufferSource(file.subarray(0, fragmentEnds[1])));
    expect(exact).toMatchObject({ complete: true, validEnd: fragmentEnds[1] });
  });

  const codecCases: { name: string; make: () => TestTrack[] }[] = [
    { name: 'hvc1 + Opus', make: () => [h265Track(dir, 0.5), opusTrack(dir, 0.5)] },
    { name: 'av01 + alaw', make: () => [av1Track(dir, 0.3), g711Track(dir, 'pcma', 0.3)] },
    { name: 'vp09 + ulaw', make: () => [vp9Track(dir, 0.3), g711Track(dir, 'pcmu', 0.3)] },
  ];
  it.each(codecCases)('reads the track config back: $name', async ({ make }) => {
    const t = make();
    const index = await readMp4Index(bufferSource(buildFmp4(t).file));
    expect(index.tracks.map((x) => x.track.config)).toEqual(t.map((x) => x.track.config));
  });
});

describe('readMp4Index: files written by ffmpeg', () => {
  const src = ['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '2'];
  const h264aac = ['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k'];
  const cases: { name: string; args: string[]; fragmented: boolean }[] = [
    { name: 'progressive, moov at the end (B-frames)', args: h264aac, fragmented: false },
    { name: 'progressive, faststart', args: [...h264aac, '-movflags', '+faststart'], fragmented: false },
    { name: 'fragmented, empty moov', args: [...h264aac, '-movflags', 'frag_keyframe+empty_moov+default_base_moof'], fragmented: true },
    { name: 'fragmented, moof without default-base-is-moof + mfra', args: [...h264aac, '-movflags', 'frag_keyframe'], fragmented: true },
    { name: 'progressive H.264 + MP3', args: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'libmp3lame'], fragmented: false },
  ];
  it.each(cases)('$name', async ({ name, args, fragmented }) => {
    const file = join(dir, `${name.replace(/\W+/g, '_')}.mp4`);
    ffmpeg([...src, ...args, file]);
    const buf = readFileSync(file);
    const index = await readMp4Index(bufferSource(buf));
    expect(index).toMatchObject({ fragmented, complete: true, validEnd: buf.length });
    expect(index.tracks.map((t) => t.track.config.codec)).toEqual(['h264', name.includes('MP3') ? 'mp3' : 'aac']);
    expect(index.tracks[0].track.config).toMatchObject({ width: 160, height: 120 });
    expectLikeFfprobe(file, index);
    if (name.includes('faststart')) {
      // cut inside the mdat: the samples whose bytes are all there
      const cut = Math.floor(buf.length * 0.7);
      const part = await readMp4Index(bufferSource(buf.subarray(0, cut)));
      expect(part.complete).toBe(false);
      part.tracks.forEach((t, i) => {
        expect(t.samples).toEqual(index.tracks[i].samples.filter((s) => s.offset + s.size <= cut));
      });
    }
  });
});

describe('readMp4Index: malformed input', () => {
  let file: Buffer;
  let progressive: Buffer;
  beforeAll(() => {
    file = buildFmp4([h264Track(dir, 0.5, 10), aacTrack(dir, 0.5)], 0.2).file;
    const p = join(dir, 'fuzz-progressive.mp4');
    ffmpeg([
      '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10', '-f', 'lavfi', '-i', 'sine', '-t', '0.5',
      '-c:v', 'libx264', '-bf', '2', '-c:a', 'aac', '-movflags', '+faststart', p,
    ]);
    progressive = readFileSync(p);
  });
  const readOrMediaError = async (buf: Buffer) => {
    try {
      await readMp4Index(bufferSource(buf), { maxSamples: 10_000, maxBoxSize: 1 << 20 });
    } catch (e) {
      if (!(e instanceof MediaError)) throw e;
    }
  };

  it('throws MediaError without a moov', async () => {
    await expect(readMp4Index(bufferSource(Buffer.alloc(0)))).rejects.toThrow(MediaError);
    await expect(readMp4Index(bufferSource(file.subarray(0, 30)))).rejects.toThrow(MediaError);
    await expect(readMp4Index(bufferSource(Buffer.from('0000000cfreeabcd', 'hex')))).rejects.toThrow(MediaError);
  });

  it('random bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), (b) => readOrMediaError(Buffer.from(b))), { numRuns: 300 });
  });

  it('random boxes', async () => {
    const boxArb = fc.tuple(fc.constantFrom('moov', 'moof', 'trak', 'mdat', 'mvhd', 'free', 'traf', 'trun'), fc.uint8Array({ maxLength: 64 }));
    await fc.assert(
      fc.asyncProperty(fc.array(boxArb, { maxLength: 6 }), (boxes) => {
        const parts = boxes.map(([type, body]) => {
          const h = Buffer.alloc(8);
          h.writeUInt32BE(8 + body.length, 0);
          h.write(type, 4, 'latin1');
          return Buffer.concat([h, Buffer.from(body)]);
        });
        return readOrMediaError(Buffer.concat(parts));
      }),
      { numRuns: 300 },
    );
  });

  it('truncations and bit flips of a real file', async () => {
    await fc.assert(fc.asyncProperty(fc.nat(file.length), (n) => readOrMediaError(file.subarray(0, n))), { numRuns: 200 });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(file.length - 1), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 8 }), (flips) => {
        const copy = Buffer.from(file);
        for (const [at, bit] of flips) copy[at] ^= 1 << bit;
        return readOrMediaError(copy);
      }),
      { numRuns: 500 },
    );
    // flips in the moov and the first moof / in the sample tables of a progressive file
    const heads = [file.subarray(0, 1500), progressive.subarray(0, progressive.indexOf('mdat') + 100)];
    await fc.assert(
      fc.asyncProperty(fc.nat(1), fc.array(fc.tuple(fc.nat(1 << 20), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }), (which, flips) => {
        const copy = Buffer.from(heads[which]);
        for (const [at, bit] of flips) copy[at % copy.length] ^= 1 << bit;
        return readOrMediaError(copy);
      }),
      { numRuns: 1500 },
    );
    await fc.assert(fc.asyncProperty(fc.nat(progressive.length), (n) => readOrMediaError(progressive.subarray(0, n))), { numRuns: 200 });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(file.length - 1), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }), (flips) => {
        const copy = Buffer.from(file);
        for (const [at, bit] of flips) copy[at] ^= 1 << bit;
        return readOrMediaError(copy);
      }),
      { numRuns: 1000 },
    );
  });

  it('bounds box sizes and sample counts', async () => {
    await expect(readMp4Index(bufferSource(file), { maxBoxSize: 100 })).rejects.toThrow(MediaError);
    await expect(readMp4Index(bufferSource(file), { maxSamples: 10 })).rejects.toThrow(MediaError);
  });
});
