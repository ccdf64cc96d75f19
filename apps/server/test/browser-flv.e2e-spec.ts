/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { killAllTracked, launchChromium, publishTestPattern, startPageServer, startTestServer, TestServer, waitFor } from '@m7s/test-kit';

interface PlaybackState {
  currentTime: number;
  decodedFrames: number;
  errors: string[];
}

describe('browsers: mpegts.js in headless Chromium plays HTTP-FLV and WS-FLV', () => {
  let server: TestServer;
  let browser: Browser;
  let pages: Awaited<ReturnType<typeof startPageServer>>;

  beforeAll(async () => {
    server = await startTestServer();
    pages = await startPageServer();
    browser = await launchChromium();
    publishTestPattern({ url: server.rtmpUrl('live/browser'), size: '640x360', fps: 25, gop: 25, profile: 'main', preset: 'veryfast' });
    await waitFor(() => server.registry.get('live/browser')?.isReady, 'the published stream', 20_000);
  });

  afterAll(async () => {
    await browser?.close();
    await pages?.close();
    await killAllTracked();
    await server?.close();
  });

  for (const [name, url] of [
    ['HTTP-FLV', (s: TestServer) => s.flvUrl('live/browser')],
    ['WS-FLV', (s: TestServer) => s.wsFlvUrl('live/browser')],
  ] as const) {
    it(`plays ${name}: the video's time advances and frames are decoded`, async () => {
      const page = await browser.newPage();
      try {
        await page.goto(pages.url(`player.html?url=${encodeURIComponent(url(server))}`));
        const state = (): Promise<PlaybackState> =>
          page.evaluate(() => {
            const video = document.getElementById('v') as HTMLVideoElement;
            return {
              currentTime: video.currentTime,
              decodedFrames: video.getVideoPlaybackQuality().totalVideoFrames,
              errors: (window as unknown as { playerErrors: string[] }).playerErrors,
            };
          });
        const first = await waitFor(async () => {
          const s = await state();
          if (s.errors.length) throw new Error(s.errors.join('; '));
          return s.currentTime > 0.5 ? s : undefined;
        }, `${name} playback to start`, 30_000);
        await waitFor(async () => (await state()).currentTime > first.currentTime + 2, `${name} playback to advance 2 s`, 30_000);
        const last = await state();
        expect(last.decodedFrames).toBeGreaterThan(25);
        expect(last.errors).toEqual([]);
        const stream = server.registry.get('live/browser')!;
        expect([...stream.subscribers].some((s) => s.info.protocol === (name === 'HTTP-FLV' ? 'http-flv' : 'ws-flv'))).toBe(true);
      } finally {
        await page.close();
      }
    });
  }
});
