import { ApiClient, decodeErrors, ffmpegPath, gstErrorLines, GstWebrtcClient, GstWebrtcCodec, gstWebrtcReport, killAllTracked, loginApi, playWithGstreamer, probeStreams, publishWithGstreamer, spawnTracked, startTestServer, stopTracked, TestServer, Tracked, waitFor } from '@m7s/test-kit';

interface SessionRow {
  kind: string;
  state: string;
  streamPath: string;
  video: string | null;
  audio: string | null;
  selectedCandidatePair: string | null;
  counters: Record<string, number>;
}

/**
 * A second WebRTC stack beside Chromium: GStreamer's webrtcbin (libnice ICE, its own DTLS/SRTP and SDP),
 * driven by test/kit/gst-webrtc.py. Debian's Chromium cannot encode H.265, so this is the H.265 end-to-end test.
 */
describe('WebRTC with GStreamer webrtcbin: H.265 and H.264 over WHIP and WHEP', () => {
  let server: TestServer;
  let admin: ApiClient;
  const clients: GstWebrtcClient[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    admin = await loginApi(server);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await killAllTracked();
    await server?.close();
  });

  const sessions = async () => ((await admin.get('/api/webrtc/sessions')).body as { list: SessionRow[] }).list;
  const sessionOf = async (kind: 'push' | 'play', path: string) => (await sessions()).find((s) => s.kind === kind && s.streamPath === path);

  function publish(path: string, codec: 'h265' | 'h264'): GstWebrtcClient {
    const client = publishWithGstreamer(server.whipUrl(path), { codec });
    clients.push(client);
    return client;
  }

  function play(path: string, codec: GstWebrtcCodec | GstWebrtcCodec[]): GstWebrtcClient {
    const client = playWithGstreamer(server.whepUrl(path), { codec });
    clients.push(client);
    return client;
  }

  /** Waits until a player has decoded `more` video frames beyond what it had. */
  async function decodesMore(player: GstWebrtcClient, more: number): Promise<void> {
    const from = player.videoFrames;
    await waitFor(() => player.videoFrames >= from + more, `${more} more decoded frames (${gstWebrtcReport(player)})`, 30_000);
  }

  /**
   * Closes a client (SIGTERM: it DELETEs its session) and checks it went cleanly, its session with it, and
   * that GStreamer logged no error (a player's decoder included) on the way.
   */
  async function closeClient(client: GstWebrtcClient, kind: 'push' | 'play', path: string): Promise<void> {
    const code = await client.close();
    const deleted = client.events.find((e) => e.event === 'deleted')?.status;
    expect({ code, deleted, errors: client.errors, logged: gstErrorLines(client) }).toEqual({ code: 0, deleted: 200, errors: [], logged: [] });
    await waitFor(async () => !(await sessionOf(kind, path)), `the ${kind} session of ${path} to go`);
  }

  describe('GStreamer publishes H.265 (x265enc) + Opus over WHIP', () => {
    const path = 'live/gst-h265';
    let publisher: GstWebrtcClient;

    beforeAll(async () => {
      publisher = publish(path, 'h265');
      await publisher.answered();
      await waitFor(() => server.registry.get(path)?.isReady && server.registry.get(path)?.publisher?.tracks.audio?.frames, `H.265 video and Opus audio from GStreamer (${gstWebrtcReport(publisher)})`, 30_000);
    });

    it('the stream carries H.265 and Opus; the API lists the connected push session', async () => {
      const tracks = server.registry.get(path)!.publisher!.tracks;
      expect(tracks.video?.codec).toBe('h265');
      expect(tracks.audio?.codec).toBe('opus');
      expect(publisher.connected).toBe(true);
      const push = await sessionOf('push', path);
      expect(push).toMatchObject({ state: 'connected', video: expect.stringMatching(/^H265\/90000/), audio: expect.stringMatching(/^OPUS\/48000\/2/) });
      // libnice's loopback candidate, and every packet of GStreamer's H.265 payloader (APs, FUs) read.
      expect(push!.selectedCandidatePair).toMatch(/^udp .* <-> 127\.0\.0\.1:\d+$/);
      expect(push!.counters.badPackets).toBe(0);
    });

    it('ffprobe reads hevc over RTSP and ffmpeg decodes 3 s of it without an error', async () => {
      const streams = await probeStreams(server.rtspUrl(path), ['-rtsp_transport', 'tcp']);
      expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'hevc', width: 320, height: 240 });
      expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'opus' });
      expect(await decodeErrors(server.rtspUrl(path), ['-rtsp_transport', 'tcp', '-t', '3'])).toBe('');
    });

    it('a GStreamer WHEP player offering H.265 then H.264 gets H.265 and decodes it (an H.265 round trip)', async () => {
      const player = play(path, ['h265', 'h264']);
      await player.answered();
      await decodesMore(player, 25);
      expect(player.tracks).toEqual(expect.arrayContaining([{ kind: 'video', codec: 'H265' }]));
      expect(player.size).toEqual({ width: 320, height: 240 });
      await closeClient(player, 'play', path);
    });

    it("a player offering H.265 Main 10 first and Main second is answered with Main, the stream's profile", async () => {
      const player = play(path, ['h265-main10', 'h265']);
      await player.answered();
      const offer = String(player.events.find((e) => e.event === 'offer')?.sdp);
      expect(offer).toMatch(/^m=video \d+ UDP\/TLS\/RTP\/SAVPF 96 97\r$/m);
      expect(offer).toMatch(/^a=fmtp:96 profile-id=2\r$/m);
      expect(player.answerSdp).toMatch(/^m=video \d+ UDP\/TLS\/RTP\/SAVPF 97\r$/m);
      await decodesMore(player, 10);
      await closeClient(player, 'play', path);
    });

    it('DELETE from the publisher ends the session and the stream', async () => {
      await closeClient(publisher, 'push', path);
      await waitFor(() => !server.registry.get(path)?.publisher, 'the WHIP publisher to go');
    });
  });

  describe('ffmpeg publishes H.265 (libx265) + Opus over RTSP', () => {
    const path = 'live/rtsp-h265';
    let ffmpeg: Tracked;

    beforeAll(async () => {
      const args = ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
      args.push('-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=25:bframes=0:log-level=error', '-c:a', 'libopus', '-b:a', '64k');
      args.push('-f', 'rtsp', '-rtsp_transport', 'tcp', server.rtspUrl(path));
      ffmpeg = spawnTracked(ffmpegPath(), args);
      await waitFor(() => server.registry.get(path)?.isReady && server.registry.get(path)?.publisher?.tracks.audio, 'the RTSP H.265 stream', 30_000);
      expect(server.registry.get(path)!.publisher!.tracks.video?.codec).toBe('h265');
    });

    afterAll(async () => {
      if (ffmpeg) await stopTracked(ffmpeg);
    });

    it('GStreamer plays it over WHEP offering H.265: decoded frames keep growing, the API shows H265', async () => {
      const player = play(path, 'h265');
      await player.answered();
      await decodesMore(player, 10);
      await waitFor(() => player.audioFrames > 0, `Opus decoded (${gstWebrtcReport(player)})`, 20_000);
      expect(player.tracks).toEqual(expect.arrayContaining([{ kind: 'video', codec: 'H265' }, { kind: 'audio', codec: 'OPUS' }]));
      expect(player.size).toEqual({ width: 320, height: 240 });
      expect(await sessionOf('play', path)).toMatchObject({ state: 'connected', video: expect.stringMatching(/^H265\/90000/), audio: expect.stringMatching(/^OPUS\/48000/) });
      await decodesMore(player, 50);
      await closeClient(player, 'play', path);
    });

    it('a second player offering only H.264 is refused 406, and nothing of it stays', async () => {
      const player = play(path, 'h264');
      await expect(player.answered()).rejects.toThrow(/406/);
      expect(player.status).toBe(406);
      expect(String(player.events.find((e) => e.event === 'refused')?.body)).toMatch(/h265/);
      expect(await player.process.exited).toBe(2);
      expect(await sessionOf('play', path)).toBeUndefined();
    });
  });

  describe('GStreamer publishes H.264 (x264enc) + Opus over WHIP and plays it over WHEP', () => {
    const path = 'live/gst-h264';
    let publisher: GstWebrtcClient;

    beforeAll(async () => {
      publisher = publish(path, 'h264');
      await publisher.answered();
      await waitFor(() => server.registry.get(path)?.isReady, `H.264 video from GStreamer (${gstWebrtcReport(publisher)})`, 30_000);
    });

    afterAll(async () => {
      await publisher?.close();
    });

    it('the stream carries H.264; a GStreamer player offering H.264 decodes it with its audio', async () => {
      expect(server.registry.get(path)!.publisher!.tracks.video?.codec).toBe('h264');
      expect(await sessionOf('push', path)).toMatchObject({ state: 'connected', video: expect.stringMatching(/^H264\/90000/) });
      const player = play(path, 'h264');
      await player.answered();
      await decodesMore(player, 25);
      await waitFor(() => player.audioFrames > 0, `Opus decoded (${gstWebrtcReport(player)})`, 20_000);
      expect(player.tracks).toEqual(expect.arrayContaining([{ kind: 'video', codec: 'H264' }, { kind: 'audio', codec: 'OPUS' }]));
      expect(await sessionOf('play', path)).toMatchObject({ state: 'connected', video: expect.stringMatching(/^H264\/90000/) });
      await closeClient(player, 'play', path);
    });

    it('a player offering H.265 first and H.264 second gets H.264 (the common codec)', async () => {
      const player = play(path, ['h265', 'h264']);
      await player.answered();
      await decodesMore(player, 10);
      expect(player.tracks).toEqual(expect.arrayContaining([{ kind: 'video', codec: 'H264' }]));
      await closeClient(player, 'play', path);
    });

    it('a player offering only H.265 for the H.264 stream is refused 406 with the reason', async () => {
      const player = play(path, 'h265');
      await expect(player.answered()).rejects.toThrow(/406/);
      expect(String(player.events.find((e) => e.event === 'refused')?.body)).toMatch(/h264.*H265/s);
      expect(await player.process.exited).toBe(2);
      expect(await sessionOf('play', path)).toBeUndefined();
      // The refusal left the publisher alone.
      expect(await sessionOf('push', path)).toMatchObject({ state: 'connected' });
    });
  });

  describe('afterwards', () => {
    it('no WebRTC session is left', async () => {
      await Promise.all(clients.map((c) => c.close()));
      await waitFor(async () => (await sessions()).length === 0, 'no WebRTC session');
    });
  });
});
