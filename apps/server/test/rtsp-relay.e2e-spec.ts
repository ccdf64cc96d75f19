import { RtspRelayService } from '@m7s/rtsp';
import { freePort, killAllTracked, probeStreams, publishTestPattern, RtspCamera, startRtspCamera, startTestServer, TestServer, waitFor } from '@m7s/test-kit';

describe('RTSP client: pull from a camera, push to another server', () => {
  let server: TestServer;
  let second: TestServer;
  let camera: RtspCamera;

  beforeAll(async () => {
    [server, second, camera] = await Promise.all([startTestServer(), startTestServer(), freePort().then(startRtspCamera)]);
  });

  afterAll(async () => {
    await camera?.stop();
    await killAllTracked();
    await Promise.all([server?.close(), second?.close()]);
  });

  it.each(['tcp', 'udp'] as const)('pulls the GStreamer camera over %s; ffprobe reads H.264 and G.711 over RTSP, RTMP and HTTP-FLV', async (transport) => {
    const relay = server.app.get(RtspRelayService);
    const path = `cams/${transport}`;
    const session = await relay.pull(camera.url, path, { transport });
    try {
      await waitFor(() => server.registry.get(path)?.isReady, 'the pulled stream', 15_000);
      for (const url of [server.rtspUrl(path), server.rtmpUrl(path), server.flvUrl(path)]) {
        const streams = await probeStreams(url);
        expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
        expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'pcm_alaw', sample_rate: '8000' });
      }
      expect(session.rtt()).toBeGreaterThanOrEqual(0);
    } finally {
      session.stop();
      await session.done;
    }
    expect(server.registry.get(path)?.publisher).toBeUndefined();
  });

  it('pulls H.265 with MP4A-LATM audio from the camera; ffprobe reads both over RTSP', async () => {
    const session = await server.app.get(RtspRelayService).pull(camera.url.replace('/cam', '/hevc'), 'cams/hevc', { transport: 'tcp' });
    try {
      await waitFor(() => server.registry.get('cams/hevc')?.publisher?.tracks.audio && server.registry.get('cams/hevc')?.isReady, 'the pulled HEVC stream with audio', 20_000);
      const streams = await probeStreams(server.rtspUrl('cams/hevc'), ['-rtsp_transport', 'tcp']);
      expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'hevc', width: 320, height: 240 });
      expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac', sample_rate: '48000', channels: 2 });
    } finally {
      session.stop();
      await session.done;
    }
  });

  it.each(['tcp', 'udp'] as const)('pushes a local stream to a second m7s-nest over RTSP/%s (ANNOUNCE/RECORD), read back with ffprobe', async (transport) => {
    const path = `live/push-${transport}`;
    publishTestPattern({ url: server.rtmpUrl(path), size: '640x360', audioRate: 48000 });
    await waitFor(() => server.registry.get(path)?.isReady, 'the local stream', 20_000);
    const session = await server.app.get(RtspRelayService).push(path, second.rtspUrl(`remote/${transport}`), { transport });
    try {
      await waitFor(() => second.registry.get(`remote/${transport}`)?.isReady, 'the pushed stream on the second server', 15_000);
      const streams = await probeStreams(second.rtspUrl(`remote/${transport}`), ['-rtsp_transport', 'tcp']);
      expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
      expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac', sample_rate: '48000' });
    } finally {
      session.stop();
      await session.done;
    }
  });

  it('pulls from a server that asks for Digest credentials, with the user and password of the URL', async () => {
    const guarded = await startTestServer({ streamAuth: { users: [{ username: 'puller', password: 'pa:ss@word', publish: true, play: true }] } });
    try {
      const withCreds = (path: string) => guarded.rtspUrl(path).replace('rtsp://', 'rtsp://puller:pa%3Ass%40word@');
      publishTestPattern({ url: withCreds('live/guarded') });
      await waitFor(() => guarded.registry.get('live/guarded')?.isReady, 'the guarded publish', 20_000);
      const relay = server.app.get(RtspRelayService);
      await expect(relay.pull(guarded.rtspUrl('live/guarded'), 'cams/unauthorized', {})).rejects.toThrow(/401/);
      const session = await relay.pull(withCreds('live/guarded'), 'cams/guarded', {});
      try {
        await waitFor(() => server.registry.get('cams/guarded')?.isReady, 'the authenticated pull', 15_000);
      } finally {
        session.stop();
        await session.done;
      }
    } finally {
      await guarded.close();
    }
  });

  it('a pull of a path the camera does not have fails with the status', async () => {
    await expect(server.app.get(RtspRelayService).pull(camera.url.replace('/cam', '/nothing'), 'cams/none', {})).rejects.toThrow(/404|503/);
  });
});
