import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MediaError } from '../media.errors';
import { childBoxes } from './mp4-box';
import { layoutProgressiveMp4, Mp4LayoutTrack } from './mp4-layout';
import { readMp4Index } from './mp4-reader';
import {
  aacTrack,
  bufferSource,
  buildFmp4,
  decodeErrors,
  ffmpeg,
  h264Track,
  makeTempDir,
  probe,
  probePackets,
  removeDir,
  writeFile,
} from './mp4-test-fixtures';
import { Mp4Index, Mp4Span } from './mp4.types';

let dir: string;
beforeAll(() => (dir = makeTempDir()));
afterAll(() => removeDir(dir));

/** The file the spans describe, reading source ranges from `sources`. */
function assemble(layout: { size: number; spans: Mp4Span[] }, sources: Buffer[]): Buffer {
  const out = Buffer.concat(layout.spans.map((s) => ('data' in s ? s.data : sources[s.source].subarray(s.offset, s.offset + s.length))));
  expect(out.length).toBe(layout.size);
  return out;
}

function fromIndex(index: Mp4Index, source = 0): Mp4LayoutTrack[] {
  return index.tracks.map((t) => ({ track: t.track, samples: t.samples.map((s) => ({ ...s, source })) }));
}

function topLevel(buf: Buffer): string[] {
  return childBoxes(buf).map((b) => b.type);
}

const SRC = ['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '3'];
const CODECS = ['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k'];

function makeSource(name: string, movflags?: string): { file: string; buf: Buffer } {
  const file = join(dir, name);
  ffmpeg([...SRC, ...CODECS, ...(movflags ? ['-movflags', movflags] : []), file]);
  return { file, buf: readFileSync(file) };
}

/** Writes the laid out file and checks it: decodes silently, moov before mdat; returns its duration. */
function checkOutput(name: string, bytes: Buffer): number {
  const file = writeFile(dir, name, bytes);
  expect(decodeErrors(file)).toBe('');
  const boxes = topLevel(bytes);
  expect(boxes.slice(0, 3)).toEqual(['ftyp', 'moov', 'mdat']);
  return Number(probe(file).format.duration);
}

describe('layoutProgressiveMp4 of files read by readMp4Index', () => {
  it.each([
    ['fragmented (frag_keyframe+empty_moov)', 'frag_keyframe+empty_moov'],
    ['progressive, moov at the end', undefined],
  ])('%s', async (name, movflags) => {
    const src = makeSource(`src-${movflags ?? 'plain'}.mp4`, movflags);
    const index = await readMp4Index(bufferSource(src.buf));
    const layout = layoutProgressiveMp4(fromIndex(index));
    // adjacent source ranges are merged (ffmpeg's fragments keep each track's samples together)
    const samples = index.tracks.reduce((n, t) => n + t.samples.length, 0);
    expect(layout.spans.length).toBeLessThan(movflags ? samples / 4 : samples);
    const out = assemble(layout, [src.buf]);
    const duration = checkOutput(`out-${movflags ?? 'plain'}.mp4`, out);
    // read back: the same samples, times and all
    const again = await readMp4Index(bufferSource(out));
    expect(again).toMatchObject({ fragmented: false, complete: true, validEnd: out.length });
    const strip = (ix: Mp4Index) => ix.tracks.map((t) => t.samples.map(({ offset: _offset, ...s }) => s));
    expect(strip(again)).toEqual(strip(index));
    expect(Math.abs(duration - Number(probe(src.file).format.duration))).toBeLessThan(0.1);
    // same packets (times, sizes, key flags) as the source, in the same order per stream
    const outFile = join(dir, `out-${movflags ?? 'plain'}.mp4`);
    for (const stream of [0, 1]) {
      const strip = (ps: ReturnType<typeof probePackets>) => ps.map(({ pos: _pos, ...p }) => p);
      expect(strip(probePackets(outFile, stream))).toEqual(strip(probePackets(src.file, stream)));
    }
  });

  it('writes negative composition offsets (ctts version 1)', async () => {
    const src = makeSource('src-negative.mp4', 'frag_keyframe+empty_moov');
    const index = await readMp4Index(bufferSource(src.buf));
    const delay = 1024; // two frames at 12800: B-frames get negative composition offsets
    const tracks = fromIndex(index).map((t) =>
      t.track.config.kind === 'video' ? { ...t, samples: t.samples.map((s) => ({ ...s, dts: s.dts + delay, cts: s.cts - delay })) } : t,
    );
    expect(tracks[0].samples.some((s) => s.cts < 0)).toBe(true);
    const out = assemble(layoutProgressiveMp4(tracks), [src.buf]);
    expect(out.includes('iso6')).toBe(true);
    checkOutput('negative.mp4', out);
    const outFile = join(dir, 'negative.mp4');
    const pts = (file: string) => probePackets(file, 0).map((p) => p.pts);
    expect(pts(outFile)).toEqual(pts(src.file));
  });

  it('stitches samples of two files (decode times rebased) into one with the summed duration', async () => {
    const a = makeSource('a.mp4', 'frag_keyframe+empty_moov');
    const b = makeSource('b.mp4');
    const ia = await readMp4Index(bufferSource(a.buf));
    const ib = await readMp4Index(bufferSource(b.buf));
    // where file a ends, in seconds (the longest track)
    const end = Math.max(...ia.tracks.map((t) => {
      const last = t.samples[t.samples.length - 1];
      return (last.dts + last.duration) / t.track.timescale;
    }));
    const tracks = ia.tracks.map((t, k) => {
      const ts = t.track.timescale;
      const other = ib.tracks[k];
      const shift = Math.round(end * ts) - other.samples[0].dts + t.samples[0].dts;
      return {
        track: t.track,
        samples: [...t.samples.map((s) => ({ ...s, source: 0 })), ...other.samples.map((s) => ({ ...s, dts: s.dts + shift, source: 1 }))],
      };
    });
    const out = assemble(layoutProgressiveMp4(tracks), [a.buf, b.buf]);
    const duration = checkOutput('stitched.mp4', out);
    const sum = Number(probe(a.file).format.duration) + Number(probe(b.file).format.duration);
    expect(Math.abs(duration - sum)).toBeLessThan(0.1);
  });

  it('lays out the complete fragments of a torn fMP4 recording', async () => {
    const { file, fragmentEnds } = buildFmp4([h264Track(dir, 3), aacTrack(dir, 3)], 1);
    const torn = file.subarray(0, fragmentEnds[1] + 500);
    const index = await readMp4Index(bufferSource(torn));
    expect(index).toMatchObject({ complete: false, validEnd: fragmentEnds[1] });
    const out = assemble(layoutProgressiveMp4(fromIndex(index)), [torn]);
    const duration = checkOutput('torn.mp4', out);
    expect(Math.abs(duration - 2)).toBeLessThan(0.1);
  });

  it('keeps a late track in sync with an empty edit', async () => {
    const v = h264Track(dir, 2);
    const a = aacTrack(dir, 1);
    const late = 44100; // audio starts 1 s after the video
    const { file } = buildFmp4([v, { ...a, frames: a.frames.map((f) => ({ ...f, dts: f.dts + late })) }], 0.5);
    const index = await readMp4Index(bufferSource(file));
    expect(index.tracks[1].samples[0].dts).toBe(late);
    const out = assemble(layoutProgressiveMp4(fromIndex(index)), [file]);
    checkOutput('late.mp4', out);
    const streams = probe(writeFile(dir, 'late.mp4', out)).streams;
    expect(Number(streams[0].start_time)).toBeCloseTo(0, 2);
    expect(Number(streams[1].start_time)).toBeCloseTo(1, 1);
  });

  it('switches to co64 and a 64-bit mdat past 4 GiB', () => {
    const track = { id: 1, timescale: 8000, config: { kind: 'audio' as const, codec: 'pcma' as const, record: Buffer.alloc(0), sampleRate: 8000, channels: 1 } };
    const big = 0xffff0000;
    const samples = [0, 1].map((i) => ({ dts: i * 160, duration: 160, cts: 0, keyFrame: true, size: big, offset: i * big, source: 0 }));
    const layout = layoutProgressiveMp4([{ track, samples }]);
    expect(layout.size).toBeGreaterThan(2 * big);
    expect(layout.spans).toHaveLength(2);
    const head = (layout.spans[0] as { data: Buffer }).data;
    expect(head.includes('co64')).toBe(true);
    expect(head.readUInt32BE(head.length - 16)).toBe(1); // mdat largesize
    expect(head.toString('latin1', head.length - 12, head.length - 8)).toBe('mdat');
  });

  it('rejects what it cannot lay out', () => {
    expect(() => layoutProgressiveMp4([])).toThrow(MediaError);
    const track = { id: 1, timescale: 8000, config: { kind: 'audio' as const, codec: 'pcma' as const, record: Buffer.alloc(0), sampleRate: 8000, channels: 1 } };
    const s = { duration: 160, cts: 0, keyFrame: true, size: 1, offset: 0, source: 0 };
    expect(() => layoutProgressiveMp4([{ track, samples: [{ ...s, dts: 100 }, { ...s, dts: 0 }] }])).toThrow(MediaError);
  });
});
