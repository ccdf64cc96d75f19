import {
  killAllTracked,
  probePackets,
  probeStreams,
  probeWsFlv,
  ProbePacket,
  ProbeStream,
  publishTestPattern,
  startTestServer,
  TestServer,
  waitFor,
} from '@m7s/test-kit';

/** What every protocol must give back: what ffmpeg sent. */
function expectSameAsSent(streams: ProbeStream[]): void {
  const video = streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  expect(video).toMatchObject({ codec_name: 'h264', width: 640, height: 360, profile: 'Main' });
  expect(audio).toMatchObject({ codec_name: 'aac', sample_rate: '48000' });
}

/** Over a 10 s window: strictly increasing video dts, non-decreasing audio dts, 25 fps within 1%. */
function expectTenSecondsIntact(packets: ProbePacket[]): void {
  const video = packets.filter((p) => p.codec_type === 'video').map((p) => Number(p.dts_time));
  const audio = packets.filter((p) => p.codec_type === 'audio').map((p) => Number(p.dts_time));
  expect(video.length).toBeGreaterThan(0);
  for (let i = 1; i < video.length; i++) expect(video[i]).toBeGreaterThan(video[i - 1]);
  for (let i = 1; i < audio.length; i++) expect(audio[i]).toBeGreaterThanOrEqual(audio[i - 1]);
  const start = video[0];
  const inWindow = video.filter((t) => t < start + 10).length;
  expect(Math.abs(inWindow - 250)).toBeLessThanOrEqual(2.5);
  const keyFirst = packets.find((p) => p.codec_type === 'video');
  expect(keyFirst?.flags.startsWith('K')).toBe(true);
}

describe('RTMP in, RTMP / HTTP-FLV / WS-FLV out (ffmpeg, ffprobe)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
    publishTestPattern({ url: server.rtmpUrl('live/main'), size: '640x360', fps: 25, gop: 25, profile: 'main', preset: 'veryfast', tune: '', audioRate: 48000 });
    await waitFor(() => server.registry.get('live/main')?.isReady, 'the published stream', 20_000);
  });

  afterAll(async () => {
    await killAllTracked();
    await server?.close();
  });

  it('gives back the same codec, resolution, profile and sample rate over RTMP', async () => {
    expectSameAsSent(await probeStreams(server.rtmpUrl('live/main')));
  });

  it('over HTTP-FLV, with CORS', async () => {
    expectSameAsSent(await probeStreams(server.flvUrl('live/main')));
    const response = await fetch(server.flvUrl('live/main'));
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('content-type')).toBe('video/x-flv');
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    await response.body?.cancel();
  });

  it('over WS-FLV', async () => {
    const { streams } = await probeWsFlv(server.wsFlvUrl('live/main'));
    expectSameAsSent(streams);
  });

  it('plays 10 s over RTMP and HTTP-FLV with monotonic timestamps and every frame', async () => {
    const [rtmp, flv] = await Promise.all([probePackets(server.rtmpUrl('live/main'), 11), probePackets(server.flvUrl('live/main'), 11)]);
    expectTenSecondsIntact(rtmp);
    expectTenSecondsIntact(flv);
  });

  it('honours ?audio=0 and ?video=0', async () => {
    const videoOnly = await probeStreams(server.flvUrl('live/main') + '?audio=0');
    expect(videoOnly.map((s) => s.codec_type)).toEqual(['video']);
    const audioOnly = await probeStreams(server.flvUrl('live/main') + '?video=0');
    expect(audioOnly.map((s) => s.codec_type)).toEqual(['audio']);
  });

  it('answers 404 for a path that is not an FLV stream and 400 for a bad stream path', async () => {
    expect((await fetch(`http://127.0.0.1:${server.httpPort}/flv/live/main.mp4`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.httpPort}/flv/live/%E0%A4%A.flv`)).status).toBe(400); // bad percent-encoding
    const bad = await fetch(`http://127.0.0.1:${server.httpPort}/flv/live/a%20b.flv`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'BAD_STREAM_PATH' });
    // A player waiting for a publisher that never comes gets a 404 with the reason, not an empty FLV.
    const missing = await fetch(`http://127.0.0.1:${server.httpPort}/flv/live/absent.flv?waitTimeout=500ms`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'WAIT_TIMEOUT' });
  });

  it('refuses WebSocket upgrades on other paths and survives garbage WebSocket frames', async () => {
    const { WebSocket } = await import('ws');
    const refused = new WebSocket(`ws://127.0.0.1:${server.httpPort}/nothing/here`);
    const status = await new Promise<number>((resolve) => {
      refused.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      refused.on('error', () => resolve(-1));
    });
    expect(status).toBe(404);

    const { connect } = await import('node:net');
    const raw = connect({ host: '127.0.0.1', port: server.httpPort });
    await new Promise((resolve) => raw.once('connect', resolve));
    raw.on('error', () => undefined);
    const key = Buffer.from('0123456789abcdef').toString('base64');
    raw.write(`GET /flv/live/main.flv HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await new Promise((resolve) => raw.once('data', resolve)); // 101 and the first tags
    raw.write(Buffer.from([0xff, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09])); // not a valid frame
    await new Promise((resolve) => raw.once('close', resolve));
    const { streams } = await probeWsFlv(server.wsFlvUrl('live/main'));
    expect(streams.length).toBe(2);
  });
});
