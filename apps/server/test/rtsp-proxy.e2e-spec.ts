import {
  ApiClient,
  framesOf,
  freePort,
  killAllTracked,
  loginApi,
  playRtmp,
  probeStreams,
  publishTestPattern,
  RtspCamera,
  startRtspCamera,
  startTestServer,
  TestServer,
  waitFor,
} from '@m7s/test-kit';

interface ProxyView {
  id: number;
  status: string;
  lastError: string | null;
  rtt: number | null;
}

/** Short retries so the suite sees every state change quickly. */
const OVERRIDES = { proxy: { retryMin: '300ms', retryMax: '1s', rttInterval: '1s', checkInterval: '1s', connectTimeout: '5s' } };

describe('RTSP through pull and push proxies: a GStreamer camera on demand, a push to a second m7s-nest', () => {
  let local: TestServer;
  let second: TestServer;
  let admin: ApiClient;

  beforeAll(async () => {
    [local, second] = await Promise.all([startTestServer(OVERRIDES), startTestServer()]);
    admin = await loginApi(local);
  });

  afterAll(async () => {
    await killAllTracked();
    await Promise.all([local?.close(), second?.close()]);
  });

  async function add(kind: 'pull' | 'push', body: Record<string, unknown>): Promise<number> {
    const response = await admin.post(`/api/proxy/${kind}/add`, body);
    expect(response.status).toBe(200);
    return response.body.id as number;
  }

  function waitStatus(kind: 'pull' | 'push', id: number, status: string, timeoutMs = 20_000, check: (p: ProxyView) => boolean = () => true): Promise<ProxyView> {
    return waitFor(
      async () => {
        const proxy = (await admin.get(`/api/proxy/${kind}/get/${id}`)).body as ProxyView;
        return proxy.status === status && check(proxy) ? proxy : undefined;
      },
      `${kind} proxy ${id} to be ${status}`,
      timeoutMs,
    );
  }

  it.each(['tcp', 'udp'] as const)(
    'pulls the camera over %s when a player asks; killing the camera makes it offline, restarting it resumes the pull unattended; it stops after the last player',
    async (rtspTransport) => {
      const port = await freePort();
      let camera: RtspCamera | undefined = await startRtspCamera(port);
      const path = `cams/door-${rtspTransport}`;
      try {
        const id = await add('pull', { name: `door-${rtspTransport}`, streamPath: path, url: camera.url, stopOnIdleMs: 1500, rtspTransport });
        await waitStatus('pull', id, 'online');
        expect(local.registry.get(path)?.publisher).toBeUndefined();

        // An RTSP player asks: its DESCRIBE waits while the proxy starts pulling.
        const streams = await probeStreams(local.rtspUrl(path), ['-rtsp_transport', 'tcp']);
        expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
        expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'pcm_alaw' });

        // An RTMP player stays through the camera's outage.
        const player = await playRtmp(local.rtmpUrl(`${path}?waitTimeout=60s`));
        await waitFor(() => framesOf(player).length >= 10, 'the player to get frames', 20_000);
        const pulling = await waitStatus('pull', id, 'pulling');
        expect(pulling.rtt).toEqual(expect.any(Number));
        expect(local.registry.get(path)?.publisher?.info.protocol).toBe('rtsp-pull');

        await camera.stop();
        camera = undefined;
        await waitStatus('pull', id, 'offline', 30_000, (p) => !!p.lastError);
        await waitFor(() => !local.registry.get(path)?.publisher, 'the stream to lose its publisher');
        const before = framesOf(player).length;

        camera = await startRtspCamera(port);
        await waitStatus('pull', id, 'pulling', 30_000);
        await waitFor(() => framesOf(player).length >= before + 25, 'the waiting player to get frames again', 30_000);

        player.close();
        await waitFor(() => !local.registry.get(path)?.publisher, 'the pull to stop after the last player left', 20_000);
        await waitStatus('pull', id, 'online');
        expect((await admin.post(`/api/proxy/pull/remove/${id}`)).status).toBe(200);
      } finally {
        await camera?.stop();
      }
    },
  );

  it('a push proxy delivers a stream to a second m7s-nest over RTSP as soon as it is published; ffprobe reads it there', async () => {
    const id = await add('push', { name: 'to-second', streamPath: 'live/outbound', url: second.rtspUrl('inbound/from-first') });
    publishTestPattern({ url: local.rtmpUrl('live/outbound'), size: '640x360', audioRate: 48000 });
    await waitStatus('push', id, 'pushing', 30_000);
    await waitFor(() => second.registry.get('inbound/from-first')?.isReady, 'the pushed stream on the second server', 20_000);
    const streams = await probeStreams(second.rtspUrl('inbound/from-first'), ['-rtsp_transport', 'tcp']);
    expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
    expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac', sample_rate: '48000' });
    expect(second.registry.get('inbound/from-first')?.publisher?.info.protocol).toBe('rtsp');
  });
});
