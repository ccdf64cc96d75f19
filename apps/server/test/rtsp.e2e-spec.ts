import {
  killAllTracked,
  probePackets,
  probeStreams,
  ProbeStream,
  publishTestPattern,
  run,
  startTestServer,
  TestServer,
  waitFor,
} from '@m7s/test-kit';

/** What ffmpeg published (H.264 Main 640x360 + AAC 48 kHz) must come back over every protocol. */
function expectSameAsSent(streams: ProbeStream[]): void {
  const video = streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  expect(video).toMatchObject({ codec_name: 'h264', width: 640, height: 360, profile: 'Main' });
  expect(audio).toMatchObject({ codec_name: 'aac', sample_rate: '48000' });
}

const publishOptions = { size: '640x360', fps: 25, gop: 25, profile: 'main', preset: 'veryfast', audioRate: 48000 } as const;

describe('RTSP server: ffmpeg publishes, ffprobe and GStreamer play', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
    publishTestPattern({ ...publishOptions, url: server.rtspUrl('live/tcp'), rtspTransport: 'tcp' });
    publishTestPattern({ ...publishOptions, url: server.rtspUrl('live/udp'), rtspTransport: 'udp' });
    await waitFor(() => server.registry.get('live/tcp')?.isReady && server.registry.get('live/udp')?.isReady, 'both RTSP publishes', 20_000);
  });

  afterAll(async () => {
    await killAllTracked();
    await server?.close();
  });

  it.each(['tcp', 'udp'])('a stream published over RTSP/TCP reads back over RTSP/%s', async (transport) => {
    expectSameAsSent(await probeStreams(server.rtspUrl('live/tcp'), ['-rtsp_transport', transport]));
  });

  it('a stream published over RTSP/UDP reads back over RTSP/TCP and UDP', async () => {
    expectSameAsSent(await probeStreams(server.rtspUrl('live/udp'), ['-rtsp_transport', 'tcp']));
    expectSameAsSent(await probeStreams(server.rtspUrl('live/udp'), ['-rtsp_transport', 'udp']));
  });

  it('reads back over RTMP and HTTP-FLV', async () => {
    expectSameAsSent(await probeStreams(server.rtmpUrl('live/tcp')));
    expectSameAsSent(await probeStreams(server.flvUrl('live/tcp')));
    expectSameAsSent(await probeStreams(server.flvUrl('live/udp')));
  });

  it('keeps 25 fps with increasing timestamps over RTSP (5 s)', async () => {
    const packets = await probePackets(`${server.rtspUrl('live/tcp')}`, 5);
    // ffmpeg gives the very first RTP packet no time (N/A) until it has a reference.
    const video = packets.filter((p) => p.codec_type === 'video' && p.pts_time !== undefined).map((p) => Number(p.pts_time));
    expect(video.length).toBeGreaterThan(100);
    for (let i = 1; i < video.length; i++) expect(video[i]).toBeGreaterThan(video[i - 1]);
    expect(packets.some((p) => p.codec_type === 'audio')).toBe(true);
  });

  it.each(['tcp', 'udp'])('GStreamer rtspsrc plays it over %s and decodes 50 frames', async (protocols) => {
    const { code, stdout, stderr } = await run(
      'gst-launch-1.0',
      ['rtspsrc', `location=${server.rtspUrl('live/tcp')}`, `protocols=${protocols}`, 'latency=0', '!', 'rtph264depay', '!', 'h264parse', '!', 'avdec_h264', '!', 'identity', 'eos-after=50', '!', 'fakesink'],
      60_000,
    );
    if (code !== 0) throw new Error(`gst-launch exited ${code}: ${stdout.slice(-2000)} ${stderr.slice(-2000)}`);
  });

  it('a play of a stream nobody publishes ends with 404 after waitTimeout', async () => {
    await expect(probeStreams(`${server.rtspUrl('live/nobody')}?waitTimeout=1s`, ['-rtsp_transport', 'tcp'])).rejects.toThrow(/404|Not Found/);
  });
});
