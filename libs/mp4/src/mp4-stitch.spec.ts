import type { Mp4Index, Mp4IndexedSample, TrackConfig } from '@m7s/media';
import { stitchRange } from './mp4-stitch';

const video: TrackConfig = { kind: 'video', codec: 'h264', record: Buffer.from([1]), parameterSets: [], width: 320, height: 240 };
const audio: TrackConfig = { kind: 'audio', codec: 'aac', record: Buffer.from([0x12, 0x10]), sampleRate: 1000, channels: 2 };

/** A file of `seconds`: video at 10 fps (90 kHz) with a key frame each second, audio in 100 ms samples (1 kHz). */
function file(seconds: number, videoConfig = video): Mp4Index {
  const v: Mp4IndexedSample[] = [];
  const a: Mp4IndexedSample[] = [];
  for (let i = 0; i < seconds * 10; i++) {
    v.push({ dts: i * 9000, duration: 9000, cts: 0, keyFrame: i % 10 === 0, size: 10, offset: 1000 + i * 20 });
    a.push({ dts: i * 100, duration: 100, cts: 0, keyFrame: true, size: 10, offset: 1010 + i * 20 });
  }
  return {
    tracks: [
      { track: { id: 2, config: audio, timescale: 1000 }, samples: a },
      { track: { id: 1, config: videoConfig, timescale: 90_000 }, samples: v },
    ],
    fragmented: false,
    complete: true,
    validEnd: 0,
  };
}

describe('stitchRange', () => {
  const t0 = 1_700_000_000_000;
  const files = [
    { index: file(3), startTime: t0 },
    { index: file(3), startTime: t0 + 3000 },
    { index: file(3), startTime: t0 + 6050 }, // 50 ms gap: closed
  ];

  it('takes the range from the key frame at or before its start, across files, on one timeline', () => {
    const result = stitchRange(files, t0 + 1500, t0 + 7500)!;
    expect(result.start).toBe(t0 + 1000);
    expect(result.filesUsed).toBe(3);
    const [v, a] = result.tracks;
    expect(v.track.config.kind).toBe('video');
    expect(v.samples[0]).toMatchObject({ dts: 0, keyFrame: true, source: 0 });
    // 2 s of the first file, 3 s of the second, 1.5 s of the third.
    expect(v.samples).toHaveLength(20 + 30 + 15);
    expect(Math.round(result.duration)).toBe(6500);
    for (let i = 1; i < v.samples.length; i++) {
      expect(v.samples[i].dts - v.samples[i - 1].dts).toBe(9000);
      expect(v.samples[i - 1].duration).toBe(9000);
    }
    expect(v.samples.map((s) => s.source)).toEqual([...Array(20).fill(0), ...Array(30).fill(1), ...Array(15).fill(2)]);
    expect(a.samples[0].dts).toBe(0);
    expect(a.samples).toHaveLength(65);
  });

  it('stops at a file whose track config differs, and is undefined for a range without samples', () => {
    const changed = [files[0], { index: file(3, { ...video, record: Buffer.from([2]) }), startTime: t0 + 3000 }];
    const result = stitchRange(changed, t0, t0 + 6000)!;
    expect(result.filesUsed).toBe(1);
    expect(result.tracks[0].samples).toHaveLength(30);
    expect(stitchRange(files, t0 + 20_000, t0 + 30_000)).toBeUndefined();
    expect(stitchRange([], t0, t0 + 1)).toBeUndefined();
  });
});
