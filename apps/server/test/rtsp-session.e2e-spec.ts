import { RtspClient } from '@m7s/rtsp';
import { parseSdp, rtpFormatOfSdpMedia } from '@m7s/media';
import {
  ffmpegPath,
  freePort,
  killAllTracked,
  makeSelfSignedCert,
  makeTempDir,
  probeStreams,
  publishTestPattern,
  removeTempDir,
  spawnTracked,
  startTestServer,
  TestServer,
  waitFor,
} from '@m7s/test-kit';

describe('RTSP sessions: RTSPS, H.265, PAUSE, keep-alive and timeouts', () => {
  let server: TestServer;
  let dir: string;
  let tlsPort: number;

  beforeAll(async () => {
    dir = await makeTempDir('m7s-rtsps-');
    const { cert, key } = await makeSelfSignedCert(dir);
    tlsPort = await freePort();
    server = await startTestServer({ rtsp: { tls: { listen: `127.0.0.1:${tlsPort}`, cert, key }, sessionTimeout: '3s' } });
    publishTestPattern({ url: server.rtmpUrl('live/main') });
    await waitFor(() => server.registry.get('live/main')?.isReady, 'the main stream', 20_000);
  });

  afterAll(async () => {
    await killAllTracked();
    await server?.close();
    await removeTempDir(dir);
  });

  it('RTSPS: ffmpeg publishes over TLS and ffprobe reads over RTSPS and RTSP', async () => {
    publishTestPattern({ url: `rtsps://127.0.0.1:${tlsPort}/live/secure` });
    await waitFor(() => server.registry.get('live/secure')?.isReady, 'the RTSPS publish', 20_000);
    for (const url of [`rtsps://127.0.0.1:${tlsPort}/live/secure`, server.rtspUrl('live/secure')]) {
      const streams = await probeStreams(url);
      expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
    }
  });

  it('H.265: ffmpeg publishes HEVC over RTSP, ffprobe reads it back over RTSP with its size', async () => {
    const args = ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=25:bframes=0:log-level=error', '-f', 'rtsp', '-rtsp_transport', 'tcp', server.rtspUrl('live/hevc')];
    spawnTracked(ffmpegPath(), args);
    await waitFor(() => server.registry.get('live/hevc')?.isReady, 'the HEVC publish', 30_000);
    const streams = await probeStreams(server.rtspUrl('live/hevc'), ['-rtsp_transport', 'tcp']);
    expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'hevc', width: 320, height: 240 });
  });

  it('Opus: ffmpeg publishes H.264 + Opus over RTSP, ffprobe reads both back over RTSP', async () => {
    const args = ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-c:a', 'libopus', '-b:a', '64k', '-f', 'rtsp', '-rtsp_transport', 'tcp', server.rtspUrl('live/opus')];
    spawnTracked(ffmpegPath(), args);
    await waitFor(() => server.registry.get('live/opus')?.publisher?.tracks.audio && server.registry.get('live/opus')?.isReady, 'the Opus publish', 30_000);
    const streams = await probeStreams(server.rtspUrl('live/opus'), ['-rtsp_transport', 'tcp']);
    expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'opus', sample_rate: '48000' });
    expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264' });
  });

  /** A player session by hand with our client: DESCRIBE, SETUP video over TCP, PLAY; counts RTP packets. */
  async function player(path: string): Promise<{ client: RtspClient; packets: () => number }> {
    const client = await RtspClient.connect(server.rtspUrl(path));
    let packets = 0;
    client.on('interleaved', (channel: number) => {
      if (channel === 0) packets++;
    });
    const described = await client.request('DESCRIBE', client.baseUrl, { Accept: 'application/sdp' });
    const sdp = parseSdp(described.body);
    expect(rtpFormatOfSdpMedia(sdp.media[0])?.encoding).toBe('H264');
    await client.request('SETUP', `${client.baseUrl}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    await client.request('PLAY', client.baseUrl, { Range: 'npt=0.000-' });
    return { client, packets: () => packets };
  }

  it('PAUSE stops the RTP, PLAY resumes it; GET_PARAMETER answers as keep-alive', async () => {
    const { client, packets } = await player('live/main');
    try {
      await waitFor(() => packets() > 20, 'RTP after PLAY');
      await client.request('PAUSE', client.baseUrl);
      const paused = packets();
      await client.request('GET_PARAMETER', client.baseUrl);
      // A round trip after PAUSE: everything sent before it has arrived; nothing may follow.
      await client.request('GET_PARAMETER', client.baseUrl);
      const settled = packets();
      expect(settled - paused).toBeLessThan(200);
      await client.request('OPTIONS', client.baseUrl);
      expect(packets()).toBe(settled);
      await client.request('PLAY', client.baseUrl);
      await waitFor(() => packets() > settled + 20, 'RTP after the second PLAY');
    } finally {
      client.close();
    }
  });

  it('a session that sets up UDP and then goes silent is closed after sessionTimeout', async () => {
    const client = await RtspClient.connect(server.rtspUrl('live/main'));
    await client.request('DESCRIBE', client.baseUrl, { Accept: 'application/sdp' });
    await client.request('SETUP', `${client.baseUrl}/trackID=0`, { Transport: 'RTP/AVP;unicast;client_port=9-10' });
    const closed = new Promise<string>((resolve) => client.once('close', resolve));
    await expect(waitFor(() => client.closed, 'the idle session closed', 15_000)).resolves.toBe(true);
    expect(await closed).toBeTruthy();
  });

  it('a request naming an unknown session gets 454', async () => {
    const client = await RtspClient.connect(server.rtspUrl('live/main'));
    try {
      await expect(client.request('PLAY', client.baseUrl, { Session: 'nope' })).rejects.toThrow(/454/);
      await client.request('DESCRIBE', client.baseUrl, { Accept: 'application/sdp' });
      client.session = undefined;
      await expect(client.request('PLAY', client.baseUrl, { Session: 'also-nope' })).rejects.toThrow(/454/);
    } finally {
      client.close();
    }
  });
});
