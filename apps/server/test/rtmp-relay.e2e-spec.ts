import { EngineEventMap, EngineEvents } from '@m7s/core';
import { RtmpRelayService } from '@m7s/rtmp';
import {
  killAllTracked,
  NginxRtmp,
  probePackets,
  probeStreams,
  ProbeStream,
  publishTestPattern,
  startNginxRtmp,
  startTestServer,
  TestServer,
  waitFor,
} from '@m7s/test-kit';

type RelayEventName = 'pull_start' | 'pull_end' | 'push_start' | 'push_end';

function expectH264AndAac(streams: ProbeStream[]): void {
  expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
  expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac', sample_rate: '44100' });
}

describe('RTMP relay against nginx-rtmp: push to it, pull from it', () => {
  let server: TestServer;
  let nginx: NginxRtmp;
  let relay: RtmpRelayService;
  const seen: Array<{ name: RelayEventName; event: EngineEventMap[RelayEventName] }> = [];
  const offs: Array<() => void> = [];

  /** nginx-rtmp's statistics page lists an active publisher for app/name. */
  async function nginxHasPublisher(app: string, name: string): Promise<boolean> {
    const xml = await (await fetch(`http://127.0.0.1:${nginx.httpPort}/stat`)).text();
    const appBlock = xml.split('<application>').find((block) => block.includes(`<name>${app}</name>`)) ?? '';
    const streamBlock = appBlock.split('<stream>').find((block) => block.includes(`<name>${name}</name>`)) ?? '';
    return streamBlock.includes('<publishing/>') && streamBlock.includes('<video>');
  }

  beforeAll(async () => {
    [server, nginx] = await Promise.all([startTestServer(), startNginxRtmp({ http: true })]);
    relay = server.app.get(RtmpRelayService);
    const events = server.app.get(EngineEvents);
    for (const name of ['pull_start', 'pull_end', 'push_start', 'push_end'] as const) {
      offs.push(events.on(name, (event) => seen.push({ name, event })));
    }
  });

  afterAll(async () => {
    for (const off of offs) off();
    await killAllTracked();
    await server?.close();
    await nginx?.stop();
  });

  it('pushes a local stream to nginx-rtmp, which serves it (ffprobe), and ends the push on stop', async () => {
    const publisher = publishTestPattern({ url: server.rtmpUrl('live/src'), size: '320x240', fps: 25, gop: 25 });
    await waitFor(() => server.registry.get('live/src')?.isReady, 'live/src on m7s', 20_000);

    const push = await relay.push('live/src', nginx.rtmpUrl('live/src'));
    expect(seen.find((s) => s.name === 'push_start')?.event).toMatchObject({ streamPath: 'live/src', url: nginx.rtmpUrl('live/src') });
    await waitFor(() => nginxHasPublisher('live', 'src'), 'nginx to have live/src', 15_000);

    expectH264AndAac(await probeStreams(nginx.rtmpUrl('live/src')));
    const packets = await probePackets(nginx.rtmpUrl('live/src'), 3);
    const video = packets.filter((p) => p.codec_type === 'video');
    expect(video.length).toBeGreaterThanOrEqual(50);
    expect(video[0].flags.startsWith('K')).toBe(true);
    expect(packets.some((p) => p.codec_type === 'audio')).toBe(true);

    const subscribers = server.registry.get('live/src')!.subscribers.size;
    push.stop();
    await expect(push.done).resolves.toEqual(expect.any(String));
    expect(seen.find((s) => s.name === 'push_end')?.event).toMatchObject({ streamPath: 'live/src', url: nginx.rtmpUrl('live/src') });
    expect(server.registry.get('live/src')!.subscribers.size).toBe(subscribers - 1);
    await waitFor(async () => !(await nginxHasPublisher('live', 'src')), 'nginx to drop live/src', 15_000);
    publisher.child.kill('SIGKILL');
    await publisher.exited;
  });

  it('pulls a stream from nginx-rtmp into a local path served over HTTP-FLV and RTMP, and stopping it ends that stream', async () => {
    const origin = publishTestPattern({ url: nginx.rtmpUrl('live/origin'), size: '320x240', fps: 25, gop: 25 });
    await waitFor(() => nginxHasPublisher('live', 'origin'), 'ffmpeg publishing live/origin to nginx', 20_000);

    const pull = await relay.pull(nginx.rtmpUrl('live/origin'), 'live/pulled');
    expect(seen.find((s) => s.name === 'pull_start')?.event).toMatchObject({ streamPath: 'live/pulled', url: nginx.rtmpUrl('live/origin') });
    await waitFor(() => server.registry.get('live/pulled')?.isReady, 'live/pulled on m7s', 20_000);
    expect(server.registry.get('live/pulled')?.publisher?.info.protocol).toBe('rtmp-pull');

    const [flv, rtmp] = await Promise.all([probeStreams(server.flvUrl('live/pulled')), probeStreams(server.rtmpUrl('live/pulled'))]);
    expectH264AndAac(flv);
    expectH264AndAac(rtmp);
    const packets = await probePackets(server.flvUrl('live/pulled'), 3);
    const video = packets.filter((p) => p.codec_type === 'video');
    expect(video.length).toBeGreaterThanOrEqual(50);
    expect(video[0].flags.startsWith('K')).toBe(true);
    for (let i = 1; i < video.length; i++) expect(Number(video[i].dts_time)).toBeGreaterThan(Number(video[i - 1].dts_time));

    pull.stop();
    await expect(pull.done).resolves.toEqual(expect.any(String));
    await waitFor(() => !server.registry.get('live/pulled')?.publisher, 'live/pulled to lose its publisher', 15_000);
    const end = seen.find((s) => s.name === 'pull_end');
    expect(end?.event).toMatchObject({ streamPath: 'live/pulled', url: nginx.rtmpUrl('live/origin'), reason: expect.any(String) });
    // nothing plays it any more: a new player waits and times out instead of getting media
    await expect(probeStreams(server.flvUrl('live/pulled') + '?waitTimeout=1s')).rejects.toThrow();
    origin.child.kill('SIGKILL');
    await origin.exited;
  });
});
