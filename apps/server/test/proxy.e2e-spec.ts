import { credentials, loadPackageDefinition, Metadata, status as GrpcStatus, ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { join } from 'node:path';
import { EngineEventMap, EngineEvents } from '@m7s/core';
import {
  ApiClient,
  framesOf,
  freePort,
  killAllTracked,
  loginApi,
  NginxRtmp,
  playHttpFlv,
  playRtmp,
  probeStreams,
  ProbeStream,
  publishTestPattern,
  startNginxRtmp,
  startTestServer,
  stopTracked,
  TestServer,
  Tracked,
  waitFor,
} from '@m7s/test-kit';

type RelayEventName = 'pull_start' | 'pull_end' | 'push_start' | 'push_end';
type Unary = (request: object, metadata: Metadata, callback: (error: ServiceError | null, response: any) => void) => void;

/** One gRPC call with a client built from the committed proto. */
function grpcCall(port: number, token: string, method: string, request: object): Promise<any> {
  const definition = loadSync(join(__dirname, '../../../libs/api/proto/m7s.proto'), { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
  const client = new ((loadPackageDefinition(definition).m7s as any).Api)(`127.0.0.1:${port}`, credentials.createInsecure()) as Record<string, Unary> & { close(): void };
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return new Promise<any>((resolve, reject) => client[method].call(client, request, metadata, (error, response) => (error ? reject(error) : resolve(response)))).finally(() => client.close());
}

/** Short retries and frequent samples so the suite sees every state change quickly. */
const LOCAL_OVERRIDES = { proxy: { retryMin: '300ms', retryMax: '1s', rttInterval: '1s', checkInterval: '1s', connectTimeout: '5s' } };
const PATTERN = { size: '320x240', fps: 25, gop: 25 } as const;

function expectH264AndAac(streams: ProbeStream[]): void {
  expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
  expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });
}

interface ProxyView {
  id: number;
  status: string;
  lastError: string | null;
  rtt: number | null;
}

describe('pull and push proxies against real peers (nginx-rtmp, a second m7s-nest, ffmpeg, ffprobe)', () => {
  let local: TestServer;
  let nginx: NginxRtmp;
  let admin: ApiClient;
  const seen: Array<{ name: RelayEventName; event: EngineEventMap[RelayEventName] }> = [];
  const offs: Array<() => void> = [];

  /** nginx-rtmp's statistics page lists an active publisher with video for app/name. */
  async function nginxHasPublisher(app: string, name: string): Promise<boolean> {
    const xml = await (await fetch(`http://127.0.0.1:${nginx.httpPort}/stat`)).text();
    const appBlock = xml.split('<application>').find((block) => block.includes(`<name>${app}</name>`)) ?? '';
    const streamBlock = appBlock.split('<stream>').find((block) => block.includes(`<name>${name}</name>`)) ?? '';
    return streamBlock.includes('<publishing/>') && streamBlock.includes('<video>');
  }

  async function addProxy(kind: 'pull' | 'push', body: Record<string, unknown>): Promise<number> {
    const response = await admin.post(`/api/proxy/${kind}/add`, body);
    expect(response.status).toBe(200);
    return response.body.id as number;
  }

  async function proxyState(kind: 'pull' | 'push', id: number): Promise<ProxyView> {
    const response = await admin.get(`/api/proxy/${kind}/get/${id}`);
    expect(response.status).toBe(200);
    return response.body as ProxyView;
  }

  /** Polls the API until the proxy shows `status` (and passes `check`); returns what it showed. */
  function waitStatus(kind: 'pull' | 'push', id: number, status: string, timeoutMs = 20_000, check: (p: ProxyView) => boolean = () => true): Promise<ProxyView> {
    return waitFor(
      async () => {
        const proxy = await proxyState(kind, id);
        return proxy.status === status && check(proxy) ? proxy : undefined;
      },
      `${kind} proxy ${id} to be ${status}`,
      timeoutMs,
    );
  }

  function count(name: RelayEventName, streamPath: string): number {
    return seen.filter((s) => s.name === name && s.event.streamPath === streamPath).length;
  }

  beforeAll(async () => {
    [local, nginx] = await Promise.all([startTestServer(LOCAL_OVERRIDES), startNginxRtmp({ http: true })]);
    admin = await loginApi(local);
    const events = local.app.get(EngineEvents);
    for (const name of ['pull_start', 'pull_end', 'push_start', 'push_end'] as const) {
      offs.push(events.on(name, (event) => seen.push({ name, event })));
    }
  });

  afterAll(async () => {
    for (const off of offs) off();
    await killAllTracked();
    await local?.close();
    await nginx?.stop();
  });

  it('(a) pulls an nginx-rtmp stream on demand when a player asks (also through an alias), and stops it stopOnIdleMs after the last player left', async () => {
    const camera = publishTestPattern({ ...PATTERN, url: nginx.rtmpUrl('live/cam-a') });
    await waitFor(() => nginxHasPublisher('live', 'cam-a'), 'ffmpeg publishing to nginx', 20_000);
    const id = await addProxy('pull', { name: 'cam-a', streamPath: 'live/cam-a', url: nginx.rtmpUrl('live/cam-a'), stopOnIdleMs: 2000 });
    // Idle and reachable (TCP check): online; nothing is pulled before a player asks.
    await waitStatus('pull', id, 'online');
    expect(local.registry.get('live/cam-a')?.publisher).toBeUndefined();
    expect(count('pull_start', 'live/cam-a')).toBe(0);

    expectH264AndAac(await probeStreams(local.flvUrl('live/cam-a')));
    expect(count('pull_start', 'live/cam-a')).toBe(1);
    expect(local.registry.get('live/cam-a')?.publisher?.info.protocol).toBe('rtmp-pull');

    // A player keeps it up: pulling, with the round-trip time measured.
    const player = playHttpFlv(local.flvUrl('live/cam-a'));
    await waitFor(() => framesOf(player).length >= 10, 'the player to get frames');
    const pulling = await waitStatus('pull', id, 'pulling');
    expect(pulling.lastError).toBeNull();
    expect(pulling.rtt).toEqual(expect.any(Number));

    player.close();
    await waitFor(() => local.registry.get('live/cam-a')?.subscribers.size === 0, 'the player to leave');
    const leftAt = Date.now();
    await waitFor(() => !local.registry.get('live/cam-a')?.publisher, 'the pull to stop', 15_000);
    expect(Date.now() - leftAt).toBeGreaterThanOrEqual(1900);
    await waitFor(() => count('pull_end', 'live/cam-a') === 1, 'pull_end');
    await waitStatus('pull', id, 'online');

    // An alias pointing at the proxy's path is a reader of that path too.
    expect((await admin.post('/api/stream/alias', { alias: 'lobby', streamPath: 'live/cam-a' })).status).toBeLessThan(300);
    expectH264AndAac(await probeStreams(local.flvUrl('lobby')));
    expect(count('pull_start', 'live/cam-a')).toBe(2);
    await waitFor(() => !local.registry.get('live/cam-a')?.publisher, 'the pull to stop again', 15_000);
    await stopTracked(camera);
  });

  it('(b) a source killed mid-pull makes the proxy offline with the reason; restarted on the same port, the pull resumes by itself and players read again', async () => {
    // The source listens on the same RTMP port after its restart (the kit's rtmpUrl knows only its own port).
    const sourcePort = await freePort();
    const sourceUrl = `rtmp://127.0.0.1:${sourcePort}/live/cam`;
    const startSource = async () => {
      const server = await startTestServer({ rtmp: { listen: `127.0.0.1:${sourcePort}` } });
      const camera = publishTestPattern({ ...PATTERN, url: sourceUrl });
      await waitFor(() => server.registry.get('live/cam')?.isReady, 'the camera on the source server', 20_000);
      return { server, camera };
    };
    let source: { server: TestServer; camera: Tracked } | undefined = await startSource();
    try {
      const id = await addProxy('pull', { name: 'cam-b', streamPath: 'live/cam-b', url: sourceUrl, stopOnIdleMs: 60_000 });
      // An RTMP player stays through a change of publisher (it waits up to its waitTimeout for the next one).
      const player = await playRtmp(local.rtmpUrl('live/cam-b?waitTimeout=60s'));
      await waitFor(() => framesOf(player).length >= 10, 'the player to get frames', 20_000);
      await waitStatus('pull', id, 'pulling');

      await source.server.close();
      await stopTracked(source.camera);
      source = undefined;
      const offline = await waitStatus('pull', id, 'offline', 20_000, (p) => !!p.lastError);
      expect(offline.lastError).toEqual(expect.any(String));
      await waitFor(() => !local.registry.get('live/cam-b')?.publisher, 'the pulled stream to lose its publisher');
      // Still retrying (with backoff): the connection is refused now.
      await waitStatus('pull', id, 'offline', 20_000, (p) => /ECONNREFUSED/.test(p.lastError ?? ''));
      const framesBefore = framesOf(player).length;

      source = await startSource();
      await waitStatus('pull', id, 'pulling', 30_000);
      await waitFor(() => framesOf(player).length >= framesBefore + 25, 'the waiting player to get frames again', 30_000);
      expectH264AndAac(await probeStreams(local.flvUrl('live/cam-b')));
      expect(count('pull_start', 'live/cam-b')).toBeGreaterThanOrEqual(2);
      player.close();
      expect((await admin.post(`/api/proxy/pull/remove/${id}`)).status).toBe(200);
      await waitFor(() => !local.registry.get('live/cam-b')?.publisher, 'the removed proxy to stop pulling');
    } finally {
      if (source) {
        await source.server.close();
        await stopTracked(source.camera);
      }
    }
  });

  it('(c) pulls the HTTP-FLV of a second m7s-nest: on demand without audio, and at start with it', async () => {
    const source = await startTestServer();
    try {
      const camera = publishTestPattern({ ...PATTERN, url: source.rtmpUrl('live/cam') });
      await waitFor(() => source.registry.get('live/cam')?.isReady, 'the camera on the source server', 20_000);
      const id = await addProxy('pull', { name: 'cam-c', streamPath: 'live/cam-c', url: source.flvUrl('live/cam'), stopOnIdleMs: 1000, audio: false });
      const full = await addProxy('pull', { name: 'cam-c-audio', streamPath: 'live/cam-c-av', url: source.flvUrl('live/cam'), pullOnStart: true });

      const streams = await probeStreams(local.flvUrl('live/cam-c'));
      expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
      expect(streams.some((s) => s.codec_type === 'audio')).toBe(false); // audio: false
      await waitFor(async () => (await proxyState('pull', id)).status !== 'offline', 'the proxy state');
      expect(local.registry.get('live/cam-c')?.publisher?.info.protocol).toBe('http-flv-pull');

      // pullOnStart: pulled without any player, with audio.
      await waitStatus('pull', full, 'pulling');
      expectH264AndAac(await probeStreams(local.rtmpUrl('live/cam-c-av')));
      // On the source, each pull is one HTTP-FLV player.
      expect(source.registry.get('live/cam')!.subscribers.size).toBeGreaterThanOrEqual(1);
      await waitFor(() => !local.registry.get('live/cam-c')?.publisher, 'the idle on-demand pull to stop', 15_000);
      expect(local.registry.get('live/cam-c-av')?.publisher).toBeDefined();
      await stopTracked(camera);
      await waitStatus('pull', full, 'offline', 30_000, (p) => !!p.lastError);
    } finally {
      await source.close();
    }
  });

  it('(d) pushes a stream to nginx-rtmp as soon as it is published (ffprobe reads it there), and stops when it ends', async () => {
    const id = await addProxy('push', { name: 'to-nginx', streamPath: 'live/push-src', url: nginx.rtmpUrl('live/pushed') });
    await waitStatus('push', id, 'online');
    const publisher = publishTestPattern({ ...PATTERN, url: local.rtmpUrl('live/push-src') });
    await waitFor(() => nginxHasPublisher('live', 'pushed'), 'nginx to receive the push', 20_000);
    const pushing = await waitStatus('push', id, 'pushing');
    expect(pushing.rtt).toEqual(expect.any(Number));
    expect(count('push_start', 'live/push-src')).toBe(1);
    expectH264AndAac(await probeStreams(nginx.rtmpUrl('live/pushed')));

    await stopTracked(publisher);
    await waitFor(() => count('push_end', 'live/push-src') === 1, 'push_end', 20_000);
    await waitFor(async () => !(await nginxHasPublisher('live', 'pushed')), 'nginx to lose the push', 20_000);
    await waitStatus('push', id, 'online');

    // Published again: pushed again.
    const again = publishTestPattern({ ...PATTERN, url: local.rtmpUrl('live/push-src') });
    await waitFor(() => nginxHasPublisher('live', 'pushed'), 'nginx to receive the second push', 20_000);
    expect(count('push_start', 'live/push-src')).toBe(2);
    await stopTracked(again);
  });

  it('(e) status, last error, rtt and the RTSP transport are visible and settable over gRPC too', async () => {
    const token = admin.token!;
    const closedPort = await freePort();
    const added = await grpcCall(local.grpcPort, token, 'AddPullProxy', { name: 'grpc-cam', streamPath: 'live/grpc-cam', url: `rtsp://127.0.0.1:${closedPort}/x`, pullOnStart: true, rtspTransport: 'udp' });
    expect(added).toMatchObject({ name: 'grpc-cam', rtspTransport: 'udp', pullOnStart: true });
    const shown = await waitFor(async () => {
      const list = await grpcCall(local.grpcPort, token, 'GetPullProxyList', {});
      const proxy = list.list.find((p: any) => p.id === added.id);
      return proxy?.status === 'offline' && /ECONNREFUSED/.test(proxy.lastError) ? proxy : undefined;
    }, 'the refused pull to show offline over gRPC');
    expect(shown.rtspTransport).toBe('udp');
    const bad = await grpcCall(local.grpcPort, token, 'UpdatePullProxy', { id: added.id, rtspTransport: 'sctp' }).catch((error: ServiceError) => error);
    expect(bad.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    const updated = await admin.post('/api/proxy/pull/update', { id: added.id, rtspTransport: 'auto', enabled: false });
    expect(updated.body).toMatchObject({ rtspTransport: 'auto', status: 'disabled' });
    await waitStatus('pull', added.id, 'disabled');
  });
});
