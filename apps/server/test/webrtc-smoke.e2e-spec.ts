import { killAllTracked, playWithWerift, publishTestPattern, startTestServer, TestServer, waitFor, loginApi } from '@m7s/test-kit';

describe('smoke', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    publishTestPattern({ url: server.rtmpUrl('live/smoke'), fps: 25, gop: 50 });
    await waitFor(() => server.registry.get('live/smoke')?.isReady, 'stream', 20_000);
  });
  afterAll(async () => {
    await killAllTracked();
    await server?.close();
  });
  it('plays', async () => {
    const player = await playWithWerift(server.whepUrl('live/smoke'));
    console.log(player.status, player.body.slice(0, 3000));
    expect(player.status).toBe(201);
    await waitFor(() => player.packets.video > 100, 'video packets', 15_000);
    const api = await loginApi(server);
    console.log(JSON.stringify((await api.get('/api/webrtc/sessions')).body, null, 1));
    await player.close();
    await waitFor(async () => (await api.get('/api/webrtc/sessions')).body.total === 0, 'no session');
  });
});
