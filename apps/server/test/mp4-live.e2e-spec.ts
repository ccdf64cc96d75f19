import { killAllTracked, probePackets, probeStreams, publishTestPattern, run, startTestServer, TestServer, waitFor, ffmpegPath } from '@m7s/test-kit';

describe('live fMP4 over HTTP (/mp4/{streamPath}.mp4) read by ffprobe and ffmpeg', () => {
  let server: TestServer;
  const url = (path: string) => `${server.httpUrl}/mp4/${path}.mp4`;

  beforeAll(async () => {
    server = await startTestServer();
    publishTestPattern({ url: server.rtmpUrl('live/fmp4'), size: '640x360', fps: 25, gop: 25, profile: 'main', preset: 'veryfast', audioRate: 48000 });
    await waitFor(() => server.registry.get('live/fmp4')?.isReady, 'the RTMP publish', 20_000);
  });

  afterAll(async () => {
    await killAllTracked();
    await server?.close();
  });

  it('ffprobe reads H.264 + AAC', async () => {
    const streams = await probeStreams(url('live/fmp4'));
    expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 640, height: 360, profile: 'Main' });
    expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac', sample_rate: '48000' });
  });

  it('has increasing timestamps, starting at a key frame (3 s)', async () => {
    const packets = await probePackets(url('live/fmp4'), 3);
    const video = packets.filter((p) => p.codec_type === 'video');
    const audio = packets.filter((p) => p.codec_type === 'audio').map((p) => Number(p.dts_time));
    expect(video.length).toBeGreaterThan(50);
    expect(video[0].flags.startsWith('K')).toBe(true);
    const dts = video.map((p) => Number(p.dts_time));
    for (let i = 1; i < dts.length; i++) expect(dts[i]).toBeGreaterThan(dts[i - 1]);
    expect(audio.length).toBeGreaterThan(50);
    for (let i = 1; i < audio.length; i++) expect(audio[i]).toBeGreaterThan(audio[i - 1]);
  });

  it('ffmpeg decodes 3 s without a word', async () => {
    const { code, stderr } = await run(ffmpegPath(), ['-v', 'error', '-i', url('live/fmp4'), '-t', '3', '-f', 'null', '-'], 60_000);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('answers 404 for a stream nobody publishes (after waitTimeout)', async () => {
    const response = await fetch(`${url('live/nobody')}?waitTimeout=200ms`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'WAIT_TIMEOUT' });
  });
});
