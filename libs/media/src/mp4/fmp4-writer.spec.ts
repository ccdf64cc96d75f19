import { childBoxes } from './mp4-box';
import { buildFragment, buildInitSegment, mp4SampleData } from './fmp4-writer';
import {
  aacTrack,
  av1Track,
  bufferSource,
  buildFmp4,
  decodeErrors,
  ffmpeg,
  g711Track,
  h264Track,
  h265Track,
  makeTempDir,
  opusTrack,
  probe,
  probePackets,
  removeDir,
  TestTrack,
  vp9Track,
  writeFile,
} from './mp4-test-fixtures';
import { MediaError } from '../media.errors';
import { readMp4Index } from './mp4-reader';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('mp4SampleData', () => {
  it('prefixes H.264/H.265 NAL units with 4-byte lengths without copying them', () => {
    const a = Buffer.from([0x65, 1, 2]);
    const b = Buffer.from([0x41, 3]);
    const out = mp4SampleData('h264', [a, b]);
    expect(Buffer.concat(out)).toEqual(Buffer.from([0, 0, 0, 3, 0x65, 1, 2, 0, 0, 0, 2, 0x41, 3]));
    expect(out[1]).toBe(a);
    expect(out[3]).toBe(b);
  });
  it('passes other codecs as is', () => {
    const a = Buffer.from([1, 2, 3]);
    expect(mp4SampleData('aac', [a])).toEqual([a]);
    expect(mp4SampleData('av1', [a])[0]).toBe(a);
  });
});

describe('buildFragment', () => {
  const track = { trackId: 1, baseDecodeTime: 0 };
  it('points trun data offsets at the sample data of each track', () => {
    const out = buildFragment(7, [
      { ...track, samples: [{ dts: 0, duration: 10, cts: -5, keyFrame: true, size: 3 }], data: [Buffer.from([1, 2, 3])] },
      { trackId: 2, baseDecodeTime: 2 ** 40, samples: [{ dts: 0, duration: 1, cts: 0, keyFrame: false, size: 2 }], data: [Buffer.from([4]), Buffer.from([5])] },
    ]);
    const file = Buffer.concat(out);
    const [moof, mdat] = childBoxes(file);
    expect([moof.type, mdat.type]).toEqual(['moof', 'mdat']);
    expect(file.subarray(mdat.payload)).toEqual(Buffer.from([1, 2, 3, 4, 5]));
    const trafs = childBoxes(file, moof.payload, moof.end).filter((b) => b.type === 'traf');
    const offsets = trafs.map((t) => {
      const trun = childBoxes(file, t.payload, t.end).find((b) => b.type === 'trun')!;
      expect(file[trun.payload]).toBe(1); // version 1
      return file.readInt32BE(trun.payload + 8);
    });
    expect(offsets).toEqual([mdat.payload, mdat.payload + 3]);
    expect(file.readInt32BE(mdat.start - 4)).toBe(0); // cts of the last sample
  });
  it('rejects data that does not add up to the sample sizes', () => {
    expect(() => buildFragment(1, [{ ...track, samples: [{ dts: 0, duration: 1, cts: 0, keyFrame: true, size: 4 }], data: [Buffer.alloc(3)] }])).toThrow(
      MediaError,
    );
    expect(() => buildFragment(1, [])).toThrow(MediaError);
    expect(() => buildFragment(1, [{ trackId: 1, baseDecodeTime: -1, samples: [], data: [] }])).toThrow(MediaError);
  });
});

describe('buildInitSegment + buildFragment read by ffmpeg', () => {
  let dir: string;
  beforeAll(() => (dir = makeTempDir()));
  afterAll(() => removeDir(dir));

  const cases: { name: string; make: () => TestTrack[]; codecs: string[]; duration: number }[] = [
    { name: 'avc1 + mp4a (AAC)', make: () => [h264Track(dir, 2), aacTrack(dir, 2)], codecs: ['h264', 'aac'], duration: 2 },
    { name: 'hvc1 + Opus', make: () => [h265Track(dir, 2), opusTrack(dir, 2)], codecs: ['hevc', 'opus'], duration: 2 },
    { name: 'av01 + alaw', make: () => [av1Track(dir, 1), g711Track(dir, 'pcma', 1)], codecs: ['av1', 'pcm_alaw'], duration: 1 },
    { name: 'vp09 + ulaw', make: () => [vp9Track(dir, 1), g711Track(dir, 'pcmu', 1)], codecs: ['vp9', 'pcm_mulaw'], duration: 1 },
  ];
  it.each(cases)('$name', ({ name, make, codecs, duration }) => {
    const tracks = make();
    const { file: bytes } = buildFmp4(tracks, 0.5);
    const file = writeFile(dir, `${name.replace(/\W+/g, '_')}.mp4`, bytes);
    expect(decodeErrors(file)).toBe('');
    const p = probe(file);
    expect(p.streams.map((s) => s.codec_name).sort()).toEqual([...codecs].sort());
    expect(Math.abs(Number(p.format.duration) - duration)).toBeLessThan(0.1);
  });

  it('remuxes an ffmpeg MP4 (H.264 with B-frames + MP3) sample for sample', async () => {
    const src = join(dir, 'bframes-mp3.mp4');
    ffmpeg([
      '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=44100', '-t', '2',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'libmp3lame', src,
    ]);
    const buf = readFileSync(src);
    const index = await readMp4Index(bufferSource(buf));
    // the index may start before 0 (B-frame delay): fragments need decode times >= 0
    const origin = Math.min(...index.tracks.map((t) => t.samples[0].dts / t.track.timescale));
    const remux = (name: string, videoDelay: number) => {
      const fragments = [0, 1, 2].map((second) =>
        index.tracks.map((t) => {
          // videoDelay moves decode times later and composition offsets down (B-frames get negative ones)
          const delay = t.track.config.kind === 'video' ? videoDelay : 0;
          const shift = Math.round(-origin * t.track.timescale) + delay;
          const samples = t.samples
            .filter((s) => Math.floor((s.dts + shift - delay) / t.track.timescale) === second)
            .map((s) => ({ ...s, dts: s.dts + shift, cts: s.cts - delay }));
          const data = samples.map((s) => buf.subarray(s.offset, s.offset + s.size));
          return { trackId: t.track.id, baseDecodeTime: samples[0]?.dts ?? 0, samples, data };
        }),
      );
      const bytes = Buffer.concat([
        buildInitSegment(index.tracks.map((t) => t.track)),
        ...fragments.flatMap((parts, i) => buildFragment(i + 1, parts.filter((p) => p.samples.length > 0))),
      ]);
      const out = writeFile(dir, name, bytes);
      expect(decodeErrors(out)).toBe('');
      expect(probe(out).streams.map((s) => s.codec_name)).toEqual(['h264', 'mp3']);
      return out;
    };
    const rel = (ps: ReturnType<typeof probePackets>, withDts: boolean) =>
      ps.map((p) => ({ pts: p.pts - ps[0].pts, dts: withDts ? p.dts - ps[0].dts : 0, size: p.size, key: p.key }));
    const plain = remux('remux.mp4', 0);
    const negative = remux('remux-negative-cts.mp4', 2 * 512); // two frames of 512 ticks (timescale 12800)
    expect(index.tracks[0].track.timescale).toBe(12800);
    expect(index.tracks[0].samples.some((s) => s.cts - 1024 < 0)).toBe(true);
    for (const stream of [0, 1]) {
      expect(rel(probePackets(plain, stream), true)).toEqual(rel(probePackets(src, stream), true));
      expect(rel(probePackets(negative, stream), false)).toEqual(rel(probePackets(src, stream), false));
    }
  });

  it('writes a CMAF-style init segment', () => {
    const init = buildInitSegment([h264Track(dir, 0.2).track]);
    const [ftyp, moov] = childBoxes(init);
    expect(ftyp.type).toBe('ftyp');
    expect(init.toString('latin1', ftyp.payload, ftyp.end)).toBe('iso6\0\0\0\0iso6cmfcmp41');
    expect(childBoxes(init, moov.payload, moov.end).map((b) => b.type)).toEqual(['mvhd', 'trak', 'mvex']);
  });
});
