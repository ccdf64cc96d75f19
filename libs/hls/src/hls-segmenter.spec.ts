import { HlsSegmenter, PartPackager, SegmenterFrame } from './hls-segmenter';

interface F extends SegmenterFrame {
  id: string;
}

/** Packs a part as the ids of its frames, so tests can see what went where. */
const packager: PartPackager<F> = {
  pack: (frames, segmentStart) => Buffer.from((segmentStart ? 'S|' : '') + frames.map((f) => f.id).join(',')),
};

function video(dts: number, key = false): F {
  return { kind: 'video', dts, keyFrame: key, id: `${key ? 'K' : 'v'}${dts}` };
}

function audio(dts: number): F {
  return { kind: 'audio', dts, keyFrame: true, id: `a${dts}` };
}

/** 25 fps video with a key frame every `gop` frames, audio every 23 ms between. */
function feed(s: HlsSegmenter<F>, seconds: number, gop = 25, from = 0): void {
  for (let i = from; i < (seconds * 1000) / 40; i++) {
    const t = i * 40;
    s.push(video(t, i % gop === 0), 1_000_000 + t);
    s.push(audio(t + 20), 1_000_000 + t + 20);
  }
}

describe('HlsSegmenter', () => {
  it('cuts segments at the first key frame after the target and parts of at most the part target', () => {
    const s = new HlsSegmenter<F>({ segmentDuration: 2000, partDuration: 200, windowSize: 5, extraSegments: 1 });
    s.begin(packager, true, 1);
    feed(s, 6.04, 25); // key frames every second
    const complete = s.segments.filter((x) => x.complete);
    expect(complete.map((x) => [x.msn, x.start, x.duration])).toEqual([
      [0, 0, 2000],
      [1, 2000, 2000],
      [2, 4000, 2000],
    ]);
    const current = s.current!;
    expect(current.msn).toBe(3);
    for (const segment of complete) {
      expect(segment.parts.map((p) => p.duration)).toEqual(Array(10).fill(200));
      expect(segment.parts.map((p) => p.independent)).toEqual([true, false, false, false, false, true, false, false, false, false]);
      expect(segment.parts[0].data.toString()).toMatch(/^S\|K\d+,a\d+/);
      expect(segment.parts[1].data.toString()).not.toMatch(/^S\|/);
    }
    // Audio rides with the video it follows.
    expect(complete[0].parts[0].data.toString()).toBe('S|K0,a20,v40,a60,v80,a100,v120,a140,v160,a180');
    // The key frame at 6 s began segment 3; its first part is being made.
    expect(current.parts).toEqual([]);
    expect(s.lastPart).toEqual({ msn: 2, index: 9 });
    expect(s.nextPart).toEqual({ msn: 3, index: 0 });
  });

  it('waits for a key frame: a long GOP makes a longer segment', () => {
    const s = new HlsSegmenter<F>({ segmentDuration: 1000, partDuration: 500, windowSize: 5, extraSegments: 0 });
    s.begin(packager, true, 1);
    feed(s, 8.04, 75); // key frames every 3 s
    expect(s.segments.filter((x) => x.complete).map((x) => x.duration)).toEqual([3000, 3000]);
    expect(s.maxSegmentDuration).toBe(3000);
  });

  it('drops frames before the first key frame', () => {
    const s = new HlsSegmenter<F>({ segmentDuration: 1000, partDuration: 200, windowSize: 5, extraSegments: 0 });
    s.begin(packager, true, 1);
    s.push(audio(0), 0);
    s.push(video(0), 0);
    expect(s.segments).toEqual([]);
    s.push(video(40, true), 40);
    expect(s.current?.start).toBe(40);
  });

  it('cuts audio-only streams by time', () => {
    const s = new HlsSegmenter<F>({ segmentDuration: 1000, partDuration: 200, windowSize: 5, extraSegments: 0 });
    s.begin(packager, false, 1);
    for (let t = 0; t < 3100; t += 23.22) s.push(audio(t), t);
    const complete = s.segments.filter((x) => x.complete);
    expect(complete).toHaveLength(3);
    for (const seg of complete) {
      expect(seg.duration).toBeGreaterThanOrEqual(999);
      expect(seg.duration).toBeLessThan(1030);
      for (const p of seg.parts) expect(p.duration).toBeLessThanOrEqual(201);
      expect(seg.parts.every((p) => p.independent)).toBe(true);
    }
  });

  it('keeps the window plus the extra segments and counts discontinuities that leave it', () => {
    const s = new HlsSegmenter<F>({ segmentDuration: 1000, partDuration: 200, windowSize: 3, extraSegments: 1 });
    s.begin(packager, true, 1);
    feed(s, 3.04);
    s.begin(packager, true, 2); // a new publisher
    for (let i = 0; i < 200; i++) s.push(video(5000 + i * 40, i % 25 === 0), 2_000_000 + i * 40);
    const complete = s.segments.filter((x) => x.complete);
    expect(complete).toHaveLength(4); // window 3 + 1 extra
    expect(s.segments.length).toBe(5); // + the one in progress
    const restart = s.segments.find((x) => x.start === 5000);
    expect(restart).toBeUndefined(); // long gone: 7 segments since
    const all = s.window(true);
    expect(all.segments.map((x) => x.msn)).toEqual([8, 9, 10, 11]);
    expect(all.discontinuitySequence).toBe(1);
    expect(s.window(false).segments).toHaveLength(3);
  });

  it('marks the first segment after begin() as a discontinuity with the new init and wall clock', () => {
    const s = new HlsSegmenter<F>({ segmentDuration: 1000, partDuration: 200, windowSize: 10, extraSegments: 0 });
    s.begin(packager, true, 1);
    feed(s, 1.5);
    s.begin(packager, true, 2);
    s.push(video(1600, true), 50_000);
    const [a, b, c] = s.segments;
    expect([a.discontinuity, a.initId, a.complete]).toEqual([false, 1, true]);
    expect([b.discontinuity, b.initId, b.complete, b.start]).toEqual([false, 1, true, 1000]);
    expect(b.duration).toBe(520); // last frame 1480 + one frame interval
    expect([c.discontinuity, c.initId, c.programDateTime]).toEqual([true, 2, 50_000]);
    expect(a.programDateTime).toBe(1_000_000);
    expect(s.window(true).discontinuitySequence).toBe(0);
  });

  it('finds segments by msn', () => {
    const s = new HlsSegmenter<F>({ segmentDuration: 1000, partDuration: 200, windowSize: 2, extraSegments: 0 });
    s.begin(packager, true, 1);
    feed(s, 5.04);
    expect(s.find(0)).toBeUndefined();
    expect(s.find(4)?.msn).toBe(4);
    expect(s.find(5)?.msn).toBe(5);
    expect(s.find(6)).toBeUndefined();
    expect(s.lastCompleteMsn).toBe(4);
  });
});
