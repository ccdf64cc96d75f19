/// <reference lib="dom" />
import { killAllTracked, launchChromium, publishTestPattern, startTestServer, TestServer, waitFor, loginApi } from '@m7s/test-kit';
import type { Browser } from 'playwright-core';

describe('smoke', () => {
  let server: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium({ webrtc: true });
    publishTestPattern({ url: server.rtmpUrl('live/smoke'), fps: 25, gop: 25 });
    await waitFor(() => server.registry.get('live/smoke')?.isReady, 'stream', 20_000);
  });
  afterAll(async () => {
    await browser?.close();
    await killAllTracked();
    await server?.close();
  });
  it('restarts', async () => {
    const api = await loginApi(server);
    const page = await browser.newPage();
    page.on('console', (m) => console.log('PAGE', m.text()));
    await page.goto(`${server.httpUrl}/webrtc/`);
    await page.evaluate(() => (window as any).m7s.play('live/smoke'));
    const st = () => page.evaluate(() => (window as any).m7s.stats());
    await waitFor(async () => (await st()).video?.framesDecoded > 10, 'decode', 20000);
    const r = await page.evaluate(async () => { try { await (window as any).m7s.restartIce(); return (window as any).m7s.answer; } catch (e) { return 'ERR ' + e; } });
    console.log('restart', r);
    for (let i = 0; i < 6; i++) {
      await new Promise((res) => setTimeout(res, 1000));
      console.log(JSON.stringify(await st()), JSON.stringify((await api.get('/api/webrtc/sessions')).body.list.map((s: any) => [s.state, s.packetsSent, s.packetsReceived, s.selectedCandidatePair])));
    }
  });
});
