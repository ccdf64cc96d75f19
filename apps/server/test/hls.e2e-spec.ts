/// <reference lib="dom" />
import { createServer, request as httpRequest, Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ffmpegPath, killAllTracked, launchChromium, probePackets, probeStreams, publishTestPattern, run, startTestServer, TestServer, waitFor } from '@m7s/test-kit';

const STREAM = 'live/hls';

/** GET with the time it took. */
async function get(url: string): Promise<{ status: number; body: string; ms: number; headers: Headers }> {
  const started = Date.now();
  const response = await fetch(url);
  const body = await response.text();
  return { status: response.status, body, ms: Date.now() - started, headers: response.headers };
}

/** A raw request path (fetch would normalize `..`). */
function rawGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function hint(playlist: string): { uri: string; msn: number; part: number } {
  const m = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]*?(\d+)\.(\d+)\.m4s[^"]*)"/.exec(playlist);
  if (!m) throw new Error(`no preload hint in\n${playlist}`);
  return { uri: m[1], msn: Number(m[2]), part: Number(m[3]) };
}

const PLAYER_PAGE = `<!doctype html>
<html><body>
<video id="v" muted autoplay playsinline></video>
<script src="/hls.min.js"></script>
<script>
  window.playerErrors = [];
  const hls = new Hls({ lowLatencyMode: true });
  hls.on(Hls.Events.ERROR, (event, data) => { if (data.fatal) window.playerErrors.push(data.type + ' ' + data.details); });
  hls.loadSource(new URLSearchParams(location.search).get('url'));
  hls.attachMedia(document.getElementById('v'));
  document.getElementById('v').play().catch(() => undefined);
</script>
</body></html>`;

describe('HLS: live TS, fMP4 and LL-HLS read by ffprobe/ffmpeg and hls.js', () => {
  let server: TestServer;
  let pages: Server;
  let pagePort: number;
  let browser: Browser;
  const url = (path: string, query = ''): string => `${server.httpUrl}/hls/${path}.m3u8${query}`;

  beforeAll(async () => {
    server = await startTestServer({
      hls: { segmentDuration: '1s', partDuration: '200ms', windowSize: 12, idleTimeout: '3s', blockingTimeout: '3s', subscribe: { waitTimeout: '2s' } },
    });
    const hlsJs = readFileSync(join(__dirname, '../../../node_modules/hls.js/dist/hls.min.js'));
    pages = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path === '/hls.min.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(hlsJs);
      else if (path === '/player.html') res.writeHead(200, { 'Content-Type': 'text/html' }).end(PLAYER_PAGE);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    pagePort = (pages.address() as { port: number }).port;
    publishTestPattern({ url: server.rtmpUrl(STREAM), size: '320x240', fps: 25, gop: 25 });
    await waitFor(() => server.registry.get(STREAM)?.isReady, 'the published stream', 20_000);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => pages?.close(resolve));
    await killAllTracked();
    await server?.close();
  });

  for (const format of ['ts', 'fmp4'] as const) {
    it(`ffprobe and ffmpeg read live HLS ${format}: h264 + aac, increasing times, no error`, async () => {
      const playlist = url(STREAM, `?format=${format}`);
      const streams = await probeStreams(playlist);
      expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
      const packets = await probePackets(playlist, 3);
      const video = packets.filter((p) => p.codec_type === 'video').map((p) => Number(p.dts_time));
      expect(video.length).toBeGreaterThan(25);
      for (let i = 1; i < video.length; i++) expect(video[i]).toBeGreaterThan(video[i - 1]);
      expect(packets.some((p) => p.codec_type === 'audio')).toBe(true);
      const decoded = await run(ffmpegPath(), ['-v', 'error', '-i', playlist, '-t', '4', '-f', 'null', '-'], 60_000);
      expect(decoded.stderr).toBe('');
      expect(decoded.code).toBe(0);
    });
  }

  it('the LL-HLS playlist has parts, a preload hint and blocking reload; the hinted part and reload wait for the part', async () => {
    const first = await get(url(STREAM));
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(first.headers.get('access-control-allow-origin')).toBe('*');
    for (const tag of ['#EXT-X-PART:', '#EXT-X-PRELOAD-HINT:TYPE=PART', 'CAN-BLOCK-RELOAD=YES', 'PART-HOLD-BACK=', 'CAN-SKIP-UNTIL=', '#EXT-X-PART-INF:PART-TARGET=0.200', '#EXT-X-MAP:URI=', '#EXT-X-PROGRAM-DATE-TIME:', 'INDEPENDENT=YES']) {
      expect(first.body).toContain(tag);
    }
    // Blocking reload for the hinted part, which did not exist when the first playlist was made: the reply
    // (held until then, not timed here) lists it, or the segment after it when the segment ended first.
    const next = hint(first.body);
    const blocked = await get(url(STREAM, `?_HLS_msn=${next.msn}&_HLS_part=${next.part}`));
    expect(blocked.status).toBe(200);
    expect(blocked.body).toMatch(new RegExp(`(${next.msn}\\.${next.part}\\.m4s|${next.msn + 1}\\.0\\.m4s)`));
    // The preload-hinted part request waits until the part exists, then gets it.
    const later = hint(blocked.body);
    const base = `${server.httpUrl}/hls/live/`;
    const part = await fetch(base + later.uri);
    const bytes = Buffer.from(await part.arrayBuffer());
    if (part.status === 200) {
      expect(bytes.subarray(4, 8).toString('latin1')).toBe('moof');
    } else {
      expect(part.status).toBe(404); // the segment ended first: that part never exists
    }
    // Parts, segments and the init section are served.
    const init = await fetch(base + /#EXT-X-MAP:URI="([^"]+)"/.exec(blocked.body)![1]);
    expect(init.status).toBe(200);
    expect(Buffer.from(await init.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  it('a delta update (_HLS_skip=YES) replaces old segments with EXT-X-SKIP', async () => {
    // CAN-SKIP-UNTIL is 6 target durations: wait until the playlist is longer than that.
    const delta = await waitFor(async () => {
      const r = await get(url(STREAM, '?_HLS_skip=YES'));
      return r.body.includes('#EXT-X-SKIP:SKIPPED-SEGMENTS=') ? r.body : undefined;
    }, 'a playlist long enough to skip', 40_000, 500);
    const full = await get(url(STREAM));
    expect(delta.length).toBeLessThan(full.body.length);
    expect(delta).toContain('#EXT-X-VERSION:9');
  });

  it('hls.js in headless Chromium plays the LL-HLS stream', async () => {
    browser = await launchChromium();
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${pagePort}/player.html?url=${encodeURIComponent(url(STREAM))}`);
      const state = (): Promise<{ t: number; errors: string[] }> =>
        page.evaluate(() => ({ t: (document.getElementById('v') as HTMLVideoElement).currentTime, errors: (window as unknown as { playerErrors: string[] }).playerErrors }));
      const first = await waitFor(async () => {
        const s = await state();
        if (s.errors.length) throw new Error(s.errors.join('; '));
        return s.t > 0.5 ? s : undefined;
      }, 'hls.js playback to start', 40_000);
      await waitFor(async () => (await state()).t > first.t + 2, 'hls.js playback to advance 2 s', 30_000);
      expect((await state()).errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('junk requests get 400/404 and the stream keeps playing', async () => {
    const bad = ['?_HLS_msn=abc', '?_HLS_msn=-1', '?_HLS_msn=99999999999999999999', '?_HLS_part=1', '?_HLS_msn=1&_HLS_part=99999999', '?_HLS_msn=1000000', '?format=flv'];
    for (const query of bad) expect([query, (await get(url(STREAM, query))).status]).toEqual([query, 400]);
    const notFound = ['/hls/live/hls/ts/999999.ts', '/hls/live/hls/fmp4/1.99999.m4s', '/hls/live/hls/fmp4/init-99.mp4', '/hls/live/hls/xx/1.ts', '/hls/live/hls/ts/1.m4s', '/hls/live/hls/fmp4/99999999999999999999.m4s'];
    for (const path of notFound) expect([path, (await get(server.httpUrl + path)).status]).toEqual([path, 404]);
    expect(await rawGet(server.httpPort, '/hls/..%2F..%2Fetc/passwd.m3u8')).toBe(400);
    expect(await rawGet(server.httpPort, '/hls/%E0%A4%A.m3u8')).toBe(400); // not UTF-8
    expect([400, 404]).toContain(await rawGet(server.httpPort, '/hls/live/../../etc/passwd.m3u8'));
    const after = await get(url(STREAM, '?format=ts'));
    expect(after.status).toBe(200);
    expect(after.body).toContain('#EXTINF:');
    expect(server.registry.get(STREAM)?.publisher).toBeDefined();
  });

  it('answers 404 for a stream nobody publishes after the wait timeout', async () => {
    const r = await get(url('live/nobody'));
    expect(r.status).toBe(404);
    expect(r.ms).toBeGreaterThan(1500);
  });

  it('drops a stream nobody requests any more after idleTimeout', async () => {
    const path = 'live/idle';
    publishTestPattern({ url: server.rtmpUrl(path), size: '160x120', fps: 25, gop: 25 });
    await waitFor(() => server.registry.get(path)?.isReady, 'the second stream', 20_000);
    expect((await get(url(path, '?format=ts'))).status).toBe(200);
    const hlsReaders = (): number => [...(server.registry.get(path)?.subscribers ?? [])].filter((s) => s.info.protocol === 'hls').length;
    expect(hlsReaders()).toBe(1);
    await waitFor(() => hlsReaders() === 0, 'the idle HLS muxer to be dropped', 10_000);
  });
});
