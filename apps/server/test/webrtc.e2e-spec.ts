/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { ApiClient, killAllTracked, launchChromium, loginApi, playWithWerift, probeStreams, publishTestPattern, startTestServer, TestServer, waitFor, WebrtcPageStats } from '@m7s/test-kit';

const FPS = 25;
/** A long GOP (10 s): playback that waited for the next key frame instead of starting from the GOP cache shows. */
const GOP_FRAMES = 250;

describe('WebRTC in headless Chromium: WHIP publish and WHEP play through the page at /webrtc/', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: ApiClient;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium({ webrtc: true });
    admin = await loginApi(server);
  });

  afterAll(async () => {
    await browser?.close();
    await killAllTracked();
    await server?.close();
  });

  async function openPage(): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${server.httpUrl}/webrtc/`);
    await page.waitForFunction(() => typeof window.m7s === 'object');
    return page;
  }

  const stats = (page: Page): Promise<WebrtcPageStats> => page.evaluate(() => window.m7s.stats());
  const sessions = async () => (await admin.get('/api/webrtc/sessions')).body as { total: number; list: { id: string; kind: string; state: string; streamPath: string; video: string | null; audio: string | null; selectedCandidatePair: string | null; counters: Record<string, number>; rembBps: number; twccBps: number }[] };

  it('serves the page (one HTML file with its script)', async () => {
    const response = await fetch(`${server.httpUrl}/webrtc/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('window.m7s = m7s');
    expect(html).not.toContain('M7S_CONFIG');
  });

  describe('Chromium publishes its fake camera and microphone over WHIP (H.264 preferred)', () => {
    let page: Page;
    const path = 'live/whip';

    beforeAll(async () => {
      page = await openPage();
      await page.evaluate((p) => window.m7s.publish(p, '', { codec: 'h264' }), path);
      await waitFor(() => server.registry.get(path)?.isReady, 'the WHIP stream to have a key frame', 30_000);
    });

    afterAll(async () => {
      await page?.evaluate(() => window.m7s.stop()).catch(() => undefined);
      await page?.close();
    });

    it('the stream has H.264 video from the browser, and the API lists the connected push session', async () => {
      const publisher = server.registry.get(path)!.publisher!;
      expect(publisher.info.protocol).toBe('webrtc');
      expect(publisher.tracks.video?.codec).toBe('h264');
      const list = await sessions();
      const push = list.list.find((s) => s.kind === 'push' && s.streamPath === path);
      expect(push).toMatchObject({ state: 'connected', video: expect.stringMatching(/^H264\/90000/), audio: expect.stringMatching(/^OPUS\/48000/) });
      expect(push!.selectedCandidatePair).toMatch(/^udp /);
      const s = await stats(page);
      expect(s.video?.codec).toMatch(/^video\/H264/);
      expect(s.video?.framesEncoded).toBeGreaterThan(0);
    });

    it('ffprobe reads it over RTMP with h264 video', async () => {
      const streams = await probeStreams(server.rtmpUrl(path));
      expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264' });
    });

    it('ffprobe reads it over HTTP-FLV with h264 video', async () => {
      const streams = await probeStreams(server.flvUrl(path));
      expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264' });
    });

    // [needs the transcode helper] The browser sends Opus; RTMP and FLV players get it as AAC.
    it('[transcode: Opus -> AAC] ffprobe finds AAC audio over RTMP and HTTP-FLV', async () => {
      expect(server.registry.get(path)!.publisher!.tracks.audio?.codec).toBe('opus');
      for (const url of [server.rtmpUrl(path), server.flvUrl(path)]) {
        const streams = await probeStreams(url);
        expect({ url, audio: streams.find((s) => s.codec_type === 'audio')?.codec_name }).toEqual({ url, audio: 'aac' });
      }
    });

    it('Chromium plays the WHIP stream back over WHEP (an H.264 round trip)', async () => {
      const viewer = await openPage();
      try {
        await viewer.evaluate((p) => window.m7s.play(p), path);
        await waitFor(async () => ((await stats(viewer)).video?.framesDecoded ?? 0) > 10, 'frames decoded from the WHIP stream', 30_000);
        expect((await stats(viewer)).video?.codec).toMatch(/^video\/H264/);
      } finally {
        await viewer.evaluate(() => window.m7s.stop());
        await viewer.close();
      }
    });

    it("a player's PLI reaches the browser publishing over WHIP (PLI from the server), which sends a key frame", async () => {
      const player = await playWithWerift(server.whepUrl(path));
      try {
        expect(player.status).toBe(201);
        await waitFor(() => player.packets.video > 20, 'the werift player to receive the WHIP stream', 20_000);
        const pushBefore = (await sessions()).list.find((s) => s.kind === 'push')!.counters.pliSent;
        const keyFramesBefore = (await stats(page)).video?.keyFramesEncoded ?? 0;
        await waitFor(async () => {
          await player.pictureLost();
          const list = (await sessions()).list;
          const push = list.find((s) => s.kind === 'push')!;
          const play = list.find((s) => s.kind === 'play')!;
          return play.counters.keyFrameRequests > 0 && push.counters.pliSent > pushBefore;
        }, 'the PLI to reach the publisher', 20_000, 300);
        await waitFor(async () => ((await stats(page)).video?.keyFramesEncoded ?? 0) > keyFramesBefore, 'a new key frame from the browser', 20_000);
        expect((await sessions()).list.find((s) => s.kind === 'play')!.counters.gopResends).toBe(0);
      } finally {
        await player.close();
      }
    });

    it('stopping the page ends the session and the publisher', async () => {
      await page.evaluate(() => window.m7s.stop());
      await waitFor(() => !server.registry.get(path)?.publisher, 'the WHIP publisher to go');
      await waitFor(async () => (await sessions()).list.every((s) => s.streamPath !== path), 'the push session to go');
    });
  });

  it.each(['vp8', 'vp9', 'av1'])('passes %s published over WHIP through to a WHEP player', async (codec) => {
    const path = `live/whip-${codec}`;
    const publisher = await openPage();
    const viewer = await openPage();
    try {
      await publisher.evaluate(([p, c]) => window.m7s.publish(p, '', { codec: c }), [path, codec]);
      await waitFor(() => server.registry.get(path)?.isReady, `the ${codec} stream to have a key frame`, 30_000);
      expect(server.registry.get(path)!.publisher!.tracks.video?.codec).toBe(codec);
      await viewer.evaluate((p) => window.m7s.play(p), path);
      await waitFor(async () => ((await stats(viewer)).video?.framesDecoded ?? 0) > 25, `${codec} frames decoded`, 30_000);
      expect((await stats(viewer)).video?.codec?.toLowerCase()).toMatch(new RegExp(`^video/${codec}`));
    } finally {
      await viewer.evaluate(() => window.m7s.stop());
      await publisher.evaluate(() => window.m7s.stop());
      await viewer.close();
      await publisher.close();
    }
  });

  describe('ffmpeg publishes H.264 + AAC over RTMP; Chromium plays it over WHEP', () => {
    const path = 'live/rtmp-to-whep';
    let page: Page;

    beforeAll(async () => {
      publishTestPattern({ url: server.rtmpUrl(path), fps: FPS, gop: GOP_FRAMES, size: '320x240' });
      await waitFor(() => server.registry.get(path)?.isReady, 'the RTMP stream', 20_000);
      page = await openPage();
    });

    afterAll(async () => {
      await page?.evaluate(() => window.m7s.stop()).catch(() => undefined);
      await page?.close();
    });

    /** Video frames since the ring's latest key frame, and frames the publisher wrote so far. */
    function position(): { sinceKey: number; written: number } {
      const stream = server.registry.get(path)!;
      const key = stream.ring.latestKeySeq()!;
      const sinceKey = [...stream.ring.from(key)].filter((f) => f.kind === 'video').length;
      return { sinceKey, written: stream.publisher!.tracks.video!.frames };
    }

    it('decodes its first frame from the GOP cache, then keeps decoding', async () => {
      // Ask while the current GOP is young, so the next key frame is most of a GOP away.
      await waitFor(() => {
        const p = position();
        return p.sinceKey >= 5 && p.sinceKey <= 50;
      }, 'a point early in a GOP', 30_000, 10);
      const atRequest = position();
      await page.evaluate((p) => window.m7s.play(p), path);
      const first = await waitFor(async () => {
        const s = await stats(page);
        return (s.video?.framesDecoded ?? 0) > 0 ? s : undefined;
      }, 'the first decoded frame', 30_000, 20);
      const atFirstFrame = position();
      // Frames the publisher wrote between the request and the first decoded frame: fewer than it takes to reach
      // the next key frame, so that frame was the cached key frame.
      const framesToNextKey = GOP_FRAMES - atRequest.sinceKey;
      expect(atFirstFrame.written - atRequest.written).toBeLessThan(framesToNextKey);
      expect(first.video!.keyFramesDecoded).toBeGreaterThanOrEqual(1);
      expect(first.video!.codec).toMatch(/^video\/H264/);
      await waitFor(async () => ((await stats(page)).video?.framesDecoded ?? 0) > first.video!.framesDecoded! + 2 * FPS, 'two more seconds of frames decoded', 30_000);
      const list = await sessions();
      const play = list.list.find((s) => s.kind === 'play' && s.streamPath === path);
      expect(play).toMatchObject({ state: 'connected', video: expect.stringMatching(/^H264\/90000 profile-level-id=42e01f/) });
      expect(play!.selectedCandidatePair).toMatch(/127\.0\.0\.1/);
      // Chromium sends transport-wide congestion feedback (the answer keeps transport-cc): werift's estimate is read.
      await waitFor(async () => (await sessions()).list.find((s) => s.kind === 'play' && s.streamPath === path)!.twccBps > 0, 'a TWCC bandwidth estimate', 20_000);
    });

    // werift's DTLS client restarted its flight 5 on a late copy of Chromium's flight 4 and failed the transport
    // ~33 s later (about half the sessions): several players must outlive that.
    it('several Chromium players stay connected and decoding for 40 s', async () => {
      const PLAYERS = 6;
      const earlier = new Set((await sessions()).list.map((s) => s.id));
      const pages = await Promise.all(Array.from({ length: PLAYERS }, () => openPage()));
      try {
        await Promise.all(pages.map((p) => p.evaluate((path) => window.m7s.play(path), path)));
        await waitFor(async () => (await Promise.all(pages.map(stats))).every((s) => (s.video?.framesDecoded ?? 0) > 0), 'every player decoding', 30_000);
        const ids = (await sessions()).list.filter((s) => s.kind === 'play' && s.streamPath === path && !earlier.has(s.id)).map((s) => s.id);
        expect(ids.length).toBe(PLAYERS);
        const connectedSince = Date.now();
        await waitFor(async () => Date.now() - connectedSince > 40_000 || (await sessions()).list.filter((s) => ids.includes(s.id)).length < ids.length, '40 s of playback', 60_000, 1000);
        const still = (await sessions()).list.filter((s) => ids.includes(s.id));
        expect(still.map((s) => s.state)).toEqual(ids.map(() => 'connected'));
        const before = await Promise.all(pages.map(stats));
        await waitFor(async () => (await Promise.all(pages.map(stats))).every((s, i) => (s.video?.framesDecoded ?? 0) > (before[i].video?.framesDecoded ?? 0) + FPS), 'every player still decoding', 20_000);
      } finally {
        for (const p of pages) await p.evaluate(() => window.m7s.stop()).catch(() => undefined);
        await Promise.all(pages.map((p) => p.close()));
      }
    }, 120_000);

    // [needs the transcode helper] The stream's AAC reaches the browser as Opus.
    it('[transcode: AAC -> Opus] audio packets arrive and keep arriving', async () => {
      const first = await waitFor(async () => {
        const s = await stats(page);
        return (s.audio?.packets ?? 0) > 0 ? s : undefined;
      }, 'audio packets', 30_000);
      expect(first.audio!.codec).toMatch(/^audio\/opus/);
      await waitFor(async () => ((await stats(page)).audio?.packets ?? 0) > first.audio!.packets + 50, 'more audio packets', 30_000);
    });
  });
});
