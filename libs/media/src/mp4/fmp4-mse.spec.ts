import { launchChromium } from '@m7s/test-kit/browser';
import type { Browser } from 'playwright-core';
import { h264CodecString } from '../codecs/h264';
import { VideoConfig } from '../media.types';
import { aacTrack, av1Track, buildFmp4, h264Track, makeTempDir, opusTrack, removeDir, TestTrack, vp9Track } from './mp4-test-fixtures';

/** Chromium's Media Source Extensions take the init segment and fragments as they come (what hls.js / live fMP4 players do). */
describe('fMP4 in Chromium MSE', () => {
  let dir: string;
  let browser: Browser;
  beforeAll(async () => {
    dir = makeTempDir();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    removeDir(dir);
  });

  const cases: { name: string; make: () => TestTrack[]; mime: (t: TestTrack[]) => string }[] = [
    {
      name: 'avc1 + mp4a',
      make: () => [h264Track(dir, 2), aacTrack(dir, 2)],
      mime: (t) => `video/mp4; codecs="${h264CodecString((t[0].track.config as VideoConfig).parameterSets[0])}, mp4a.40.2"`,
    },
    { name: 'vp09 + Opus', make: () => [vp9Track(dir, 2), opusTrack(dir, 2)], mime: () => 'video/mp4; codecs="vp09.00.10.08, opus"' },
    { name: 'av01 + Opus', make: () => [av1Track(dir, 1), opusTrack(dir, 1)], mime: () => 'video/mp4; codecs="av01.0.00M.08, opus"' },
  ];
  it.each(cases)('$name', async ({ make, mime }) => {
    const tracks = make();
    const segments = buildFmp4(tracks, 0.5).segments.map((s) => s.toString('base64'));
    const duration = Math.min(...tracks.map((t) => (t.frames.length * t.frames[0].duration) / t.track.timescale));
    const page = await browser.newPage();
    try {
      const result = await page.evaluate(
        async ({ mime, segments }) => {
          if (!MediaSource.isTypeSupported(mime)) return { supported: false, end: 0, error: '' };
          const video = document.createElement('video');
          const ms = new MediaSource();
          video.src = URL.createObjectURL(ms);
          await new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
          const sb = ms.addSourceBuffer(mime);
          let error = '';
          sb.addEventListener('error', () => (error = 'SourceBuffer error'));
          video.addEventListener('error', () => (error = `video error ${video.error?.message}`));
          for (const s of segments) {
            sb.appendBuffer(Uint8Array.from(atob(s), (c) => c.charCodeAt(0)));
            await new Promise((r) => sb.addEventListener('updateend', r, { once: true }));
            if (error) break;
          }
          const b = sb.buffered;
          return { supported: true, end: b.length ? b.end(b.length - 1) : 0, start: b.length ? b.start(0) : -1, ranges: b.length, error };
        },
        { mime: mime(tracks), segments },
      );
      expect(result).toMatchObject({ supported: true, error: '', ranges: 1 });
      expect(result.start).toBeCloseTo(0, 1);
      expect(Math.abs(result.end - duration)).toBeLessThan(0.1);
    } finally {
      await page.close();
    }
  });
});
