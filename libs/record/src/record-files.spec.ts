import { isFileStart, recordFilePath, recordFileStem, shouldSplit, streamPatternToLike, streamPatternToRegExp, STREAM_PATTERN } from './record-files';

describe('record file naming', () => {
  it.each([
    [Date.UTC(2026, 10, 24, 10, 0, 0, 0), '2026-11-24T10-00-00.000'],
    [Date.UTC(2026, 0, 2, 3, 4, 5, 67), '2026-01-02T03-04-05.067'],
    [Date.UTC(1999, 11, 31, 23, 59, 59, 999), '1999-12-31T23-59-59.999'],
  ])('%d -> %s (UTC)', (time, stem) => {
    expect(recordFileStem(time)).toBe(stem);
  });

  it('puts files under {dir}/{streamPath}/', () => {
    expect(recordFilePath('/data/record', 'live/cam1', Date.UTC(2026, 10, 24, 10, 0, 0, 5), 'flv')).toBe('/data/record/live/cam1/2026-11-24T10-00-00.005.flv');
  });

  it('sorts by time as text', () => {
    const times = [Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1, 0, 0, 1), Date.UTC(2026, 9, 1), Date.UTC(2027, 0, 1)];
    const stems = times.map(recordFileStem);
    expect([...stems].sort()).toEqual(stems);
  });
});

describe('split decision', () => {
  const video = (dts: number, keyFrame: boolean) => ({ kind: 'video' as const, keyFrame, dts });
  const audio = (dts: number) => ({ kind: 'audio' as const, keyFrame: true, dts });

  it.each([
    ['key frame after the fragment', video(10_000, true), true],
    ['key frame right at the fragment', video(3_000, true), true],
    ['key frame before the fragment', video(2_999, true), false],
    ['non-key frame after the fragment', video(10_000, false), false],
    ['audio frame of a stream with video', audio(10_000), false],
  ])('with video: %s', (_what, frame, expected) => {
    expect(shouldSplit(frame, 0, 3000, true)).toBe(expected);
  });

  it('audio-only streams split at any audio frame after the fragment', () => {
    expect(shouldSplit(audio(3000), 0, 3000, false)).toBe(true);
    expect(shouldSplit(audio(2000), 0, 3000, false)).toBe(false);
  });

  it('never splits with fragment 0', () => {
    expect(shouldSplit(video(1e9, true), 0, 0, true)).toBe(false);
  });

  it('starts files at key frames (any audio frame without video)', () => {
    expect(isFileStart(video(0, true), true)).toBe(true);
    expect(isFileStart(video(0, false), true)).toBe(false);
    expect(isFileStart(audio(0), true)).toBe(false);
    expect(isFileStart(audio(0), false)).toBe(true);
  });
});

describe('stream path patterns', () => {
  it.each([
    ['live/cam1', 'live/cam1'],
    ['live/*', 'live/%'],
    ['*cam*', '%cam%'],
    ['live/a_b', 'live/a!_b'],
    ['*_*', '%!_%'],
  ])('%s -> LIKE %s', (pattern, like) => {
    expect(streamPatternToLike(pattern)).toBe(like);
  });

  it('matches like the SQL pattern does', () => {
    const re = streamPatternToRegExp('live/*.x');
    expect(re.test('live/a/b.x')).toBe(true);
    expect(re.test('live/ab')).toBe(false);
    expect(streamPatternToRegExp('a.b').test('axb')).toBe(false);
  });

  it('accepts stream path characters and * only', () => {
    expect(STREAM_PATTERN.test('live/*')).toBe(true);
    expect(STREAM_PATTERN.test("live/%' OR 1=1")).toBe(false);
    expect(STREAM_PATTERN.test('')).toBe(false);
  });
});
