import { HlsUris, parseHlsPath } from './hls-path';
import { renderLivePlaylist, targetDurationOf } from './hls-playlist';
import type { HlsSegment } from './hls-segmenter';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');

function segment(msn: number, opts: Partial<HlsSegment> = {}): HlsSegment {
  const parts = [0, 1, 2, 3, 4].map((index) => ({ index, start: msn * 1000 + index * 200, duration: 200, independent: index === 0, data: Buffer.alloc(1) }));
  return { msn, start: msn * 1000, duration: 1000, programDateTime: T0 + msn * 1000, discontinuity: false, initId: 1, parts, complete: true, size: 5, ...opts };
}

const uris = new HlsUris('live/cam1', 'fmp4', 'secret=abc&expire=ff');

describe('renderLivePlaylist', () => {
  it('writes a TS playlist of the complete segments', () => {
    const text = renderLivePlaylist({
      format: 'ts',
      window: { segments: [segment(3), segment(4, { duration: 1480 })], discontinuitySequence: 0 },
      targetDuration: targetDurationOf(1000, 1480),
      partTarget: 0.2,
      uris: new HlsUris('live/cam1', 'ts'),
    });
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-MEDIA-SEQUENCE:3',
        '#EXT-X-DISCONTINUITY-SEQUENCE:0',
        '#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:03.000Z',
        '#EXTINF:1.000,',
        'cam1/ts/3.ts',
        '#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:04.000Z',
        '#EXTINF:1.480,',
        'cam1/ts/4.ts',
        '',
      ].join('\n'),
    );
  });

  it('writes LL-HLS: server control, parts of the last three target durations, the segment in progress, the preload hint', () => {
    const current = segment(6, { complete: false, duration: 400 });
    current.parts = current.parts.slice(0, 2);
    const segments = [segment(1), segment(2), segment(3), segment(4), segment(5), current];
    const text = renderLivePlaylist({ format: 'llhls', window: { segments, discontinuitySequence: 2 }, targetDuration: 1, partTarget: 0.2, nextPart: { msn: 6, index: 2 }, uris });
    const lines = text.trim().split('\n');
    expect(lines.slice(0, 7)).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:9',
      '#EXT-X-TARGETDURATION:1',
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.600,CAN-SKIP-UNTIL=6.0',
      '#EXT-X-PART-INF:PART-TARGET=0.200',
      '#EXT-X-MEDIA-SEQUENCE:1',
      '#EXT-X-DISCONTINUITY-SEQUENCE:2',
    ]);
    expect(lines[7]).toBe('#EXT-X-MAP:URI="cam1/fmp4/init-1.mp4?secret=abc&expire=ff"');
    // 5.4 s in the playlist: parts for segments starting within the last 3 s (4, 5 and 6).
    const partLines = lines.filter((l) => l.startsWith('#EXT-X-PART:'));
    expect(partLines).toHaveLength(5 + 5 + 2);
    expect(partLines[0]).toBe('#EXT-X-PART:DURATION=0.200,URI="cam1/fmp4/4.0.m4s?secret=abc&expire=ff",INDEPENDENT=YES');
    expect(partLines[1]).toBe('#EXT-X-PART:DURATION=0.200,URI="cam1/fmp4/4.1.m4s?secret=abc&expire=ff"');
    expect(lines.filter((l) => l.startsWith('#EXTINF:'))).toHaveLength(5);
    expect(lines[lines.length - 1]).toBe('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="cam1/fmp4/6.2.m4s?secret=abc&expire=ff"');
    // The segment in progress has parts but no URI yet.
    expect(text).not.toContain('cam1/fmp4/6.m4s');
  });

  it('skips old segments in a delta update and repeats the map', () => {
    const segments = Array.from({ length: 10 }, (_, i) => segment(i));
    const text = renderLivePlaylist({ format: 'llhls', window: { segments, discontinuitySequence: 0 }, targetDuration: 1, partTarget: 0.2, nextPart: { msn: 10, index: 0 }, skip: true, uris });
    expect(text).toContain('#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n#EXT-X-MAP:URI="cam1/fmp4/init-1.mp4');
    expect(text).not.toContain('cam1/fmp4/3.m4s');
    expect(text).toContain('cam1/fmp4/4.m4s');
  });

  it('marks discontinuities and a new init section', () => {
    const segments = [segment(1), segment(2, { discontinuity: true, initId: 2 })];
    const text = renderLivePlaylist({ format: 'fmp4', window: { segments, discontinuitySequence: 0 }, targetDuration: 1, partTarget: 0.2, uris: new HlsUris('cam', 'fmp4') });
    expect(text).toContain('#EXT-X-VERSION:7');
    expect(text).toContain('cam/fmp4/1.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="cam/fmp4/init-2.mp4"\n#EXT-X-PROGRAM-DATE-TIME');
    expect(text).not.toContain('#EXT-X-PART');
  });

  it('rounds the target duration up and never below the configured one', () => {
    expect(targetDurationOf(2000, 0)).toBe(2);
    expect(targetDurationOf(2000, 2040)).toBe(3);
    expect(targetDurationOf(200, 0)).toBe(1);
  });
});

describe('parseHlsPath', () => {
  it.each([
    ['/hls/live/cam1.m3u8', { kind: 'playlist', streamPath: 'live/cam1' }],
    ['/hls/a/b/c.m3u8', { kind: 'playlist', streamPath: 'a/b/c' }],
    ['/hls/live/cam1/ts/12.ts', { kind: 'segment', streamPath: 'live/cam1', container: 'ts', msn: 12 }],
    ['/hls/live/cam1/fmp4/12.m4s', { kind: 'segment', streamPath: 'live/cam1', container: 'fmp4', msn: 12 }],
    ['/hls/live/cam1/fmp4/12.3.m4s', { kind: 'part', streamPath: 'live/cam1', container: 'fmp4', msn: 12, part: 3 }],
    ['/hls/live/cam1/fmp4/init-2.mp4', { kind: 'init', streamPath: 'live/cam1', container: 'fmp4', id: 2 }],
  ])('%s', (path, expected) => {
    expect(parseHlsPath(path)).toEqual(expected);
  });

  it.each(['/hls/live/cam1', '/flv/live/cam1.m3u8', '/hls/live/cam1/ts/12.m4s', '/hls/live/cam1/fmp4/1.ts', '/hls/live/cam1/ts/init-1.mp4', '/hls/live/cam1/ts/-1.ts', '/hls/live/cam1/ts/99999999999999999.ts', '/hls/%E0%A4%A.m3u8'])(
    'refuses %s',
    (path) => {
      expect(parseHlsPath(path)).toBeUndefined();
    },
  );

  it('names media relative to the playlist, with the query', () => {
    const u = new HlsUris('live/cam 1', 'ts', 'a=1');
    expect(u.segment(5)).toBe('cam%201/ts/5.ts?a=1');
    expect(new HlsUris('cam', 'fmp4').part(5, 2)).toBe('cam/fmp4/5.2.m4s');
  });
});
