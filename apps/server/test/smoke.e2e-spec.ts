import { killAllTracked, probeStreams, publishTestPattern, startTestServer, stopTracked, TestServer, waitFor } from '@m7s/test-kit';

describe('smoke', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await killAllTracked();
    await server?.close();
  });

  it('ffmpeg publishes over RTMP, ffprobe reads RTMP and HTTP-FLV', async () => {
    const pub = publishTestPattern({ url: server.rtmpUrl('live/smoke') });
    await waitFor(() => server.registry.get('live/smoke')?.isReady, 'stream ready');
    const rtmp = await probeStreams(server.rtmpUrl('live/smoke'));
    const flv = await probeStreams(server.flvUrl('live/smoke'));
    console.log(JSON.stringify(rtmp), JSON.stringify(flv));
    await stopTracked(pub);
  });
});
