import { request } from 'node:http';
import { AVFrame, StreamError, Subscriber, SubscriberSink, Track, TrackSet } from '@m7s/core';
import { AudioCodec, AudioConfig, FlvTagReader, OggOpusWriter, parseAudioBody } from '@m7s/media';
import { MessageType, RtmpClient, RtmpMessage } from '@m7s/rtmp';
import {
  ApiClient,
  decodeErrors,
  ffmpegPath,
  killAllTracked,
  loginApi,
  playHttpFlv,
  probeStreams,
  publishTestPattern,
  spawnTracked,
  startTestServer,
  stopTracked,
  TestServer,
  Tracked,
  waitFor,
} from '@m7s/test-kit';

interface TranscoderRow {
  streamPath: string;
  from: string;
  to: string;
  players: number;
  framesIn: number;
  framesOut: number;
  pid?: number;
  cpuSeconds: number;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** ffmpeg publishing H.264 + Opus over RTSP (TCP), in real time, until killed. */
function publishOpusRtsp(url: string): Tracked {
  return spawnTracked(ffmpegPath(), [
    ...['-hide_banner', '-loglevel', 'error', '-re'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-c:a', 'libopus', '-b:a', '64k'],
    ...['-f', 'rtsp', '-rtsp_transport', 'tcp', url],
  ]);
}

/** The codec of each audio frame in FLV audio bodies, read with the project's FLV parser. */
function audioCodecReader(): { codecs: AudioCodec[]; read: (body: Buffer) => void } {
  const codecs: AudioCodec[] = [];
  let config: AudioConfig | undefined;
  return {
    codecs,
    read: (body) => {
      const result = parseAudioBody(body, config);
      if (result.type === 'config') config = result.config;
      if (result.type !== 'frame') return;
      if (result.config) config = result.config;
      codecs.push(result.codec);
    },
  };
}

/** An HTTP-FLV player that keeps the codec of its audio tags. */
function flvAudioReader(url: string): { codecs: AudioCodec[]; close: () => void } {
  const flv = new FlvTagReader();
  const audio = audioCodecReader();
  const req = request(url, (res) => {
    res.on('data', (chunk: Buffer) => {
      for (const tag of flv.push(chunk)) if (tag.type === 8) audio.read(tag.body);
    });
  });
  req.on('error', () => undefined);
  req.end();
  return { codecs: audio.codecs, close: () => req.destroy() };
}

/** A player inside the server (as the WebRTC sink will be) that takes only the codecs given. */
class CollectingSink implements SubscriberSink {
  tracks: TrackSet | undefined;
  configs: AudioConfig[] = [];
  audio: AVFrame[] = [];
  video: AVFrame[] = [];
  constructor(readonly audioCodecs?: readonly AudioCodec[]) {}
  backlog() {
    return 0;
  }
  start(tracks: TrackSet) {
    this.tracks = tracks;
    if (tracks.audio) this.configs.push(tracks.audio.config);
  }
  track(track: Track) {
    if (track.config.kind === 'audio') this.configs.push(track.config);
  }
  frame(frame: AVFrame) {
    (frame.kind === 'audio' ? this.audio : this.video).push(frame);
  }
  publisherLeft() {
    return false;
  }
  end(_error: StreamError) {}
}

describe('cross-protocol audio: transcoded on demand, once per stream and codec', () => {
  let server: TestServer;
  let api: ApiClient;
  const transcoders = async (): Promise<TranscoderRow[]> => {
    const res = await api.get<{ list: TranscoderRow[] }>('/api/transcode/list');
    expect(res.status).toBe(200);
    return res.body.list;
  };

  beforeAll(async () => {
    server = await startTestServer({ transcode: { ffmpeg: ffmpegPath() } });
    api = await loginApi(server);
  });

  afterAll(async () => {
    await killAllTracked();
    await server?.close();
  });

  describe('a WebRTC-like source: H.264 + Opus published over RTSP', () => {
    let publisher: Tracked;
    beforeAll(async () => {
      publisher = publishOpusRtsp(server.rtspUrl('live/opus'));
      await waitFor(() => server.registry.get('live/opus')?.isReady && server.registry.get('live/opus')?.publisher?.tracks.audio?.codec === 'opus', 'the Opus publish', 30_000);
    });
    afterAll(async () => {
      if (publisher) await stopTracked(publisher);
    });

    it('RTMP and HTTP-FLV players get H.264 + AAC that decodes cleanly', async () => {
      for (const url of [server.rtmpUrl('live/opus'), server.flvUrl('live/opus')]) {
        const streams = await probeStreams(url);
        expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264' });
        expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac', sample_rate: '48000' });
        expect(await decodeErrors(url, ['-t', '3'])).toBe('');
      }
      await waitFor(async () => (await transcoders()).length === 0, 'no transcoder once the players left');
    });

    it('two FLV players share one transcoder; when both leave it stops and its ffmpeg is gone', async () => {
      const a = playHttpFlv(server.flvUrl('live/opus'));
      const b = playHttpFlv(server.flvUrl('live/opus'));
      try {
        await waitFor(() => a.audioCount > 20 && b.audioCount > 20, 'audio at both players');
        const list = await transcoders();
        expect(list).toHaveLength(1);
        expect(list[0]).toMatchObject({ streamPath: 'live/opus', from: 'opus', to: 'aac', players: 2 });
        // A player's audio count includes the AAC sequence header tag: 21 tags can be 20 transcoded frames.
        expect(list[0].framesOut).toBeGreaterThanOrEqual(20);
        expect(list[0].cpuSeconds).toBeGreaterThanOrEqual(0);
        const pid = list[0].pid!;
        expect(pidAlive(pid)).toBe(true);
        a.close();
        await waitFor(async () => (await transcoders())[0]?.players === 1, 'one player left');
        b.close();
        await waitFor(async () => (await transcoders()).length === 0, 'the transcoder stopped');
        await waitFor(() => !pidAlive(pid), 'its ffmpeg process gone');
      } finally {
        a.close();
        b.close();
      }
    });

    it("an Enhanced RTMP player whose connect fourCcList names 'Opus' gets the Opus as is, no transcoder", async () => {
      const client = await RtmpClient.connect(server.rtmpUrl('live/opus'), { enhanced: true });
      const audio = audioCodecReader();
      client.on('media', (msg: RtmpMessage) => {
        if (msg.type === MessageType.Audio) audio.read(Buffer.from(msg.payload));
      });
      try {
        await client.play();
        await waitFor(() => audio.codecs.length > 20, 'Opus audio messages');
        expect(new Set(audio.codecs)).toEqual(new Set(['opus']));
        expect(await transcoders()).toEqual([]);
      } finally {
        client.close();
      }
    });

    it('?transcodeAudio=false gives the Opus as is (Enhanced FLV tags) and starts no transcoder', async () => {
      const reader = flvAudioReader(`${server.flvUrl('live/opus')}?transcodeAudio=false`);
      try {
        await waitFor(() => reader.codecs.length > 20, 'Opus audio tags');
        expect(new Set(reader.codecs)).toEqual(new Set(['opus']));
        expect(await transcoders()).toEqual([]);
      } finally {
        reader.close();
      }
    });

    // Last here: the HLS muxer (and its transcoder) stays until hls.idleTimeout or the publisher leaves.
    it('HLS (TS and fMP4) gets AAC', async () => {
      for (const query of ['?format=ts', '']) {
        const url = `${server.httpUrl}/hls/live/opus.m3u8${query}`;
        // The muxer starts with the first request; the transcoded audio joins it a moment after the video.
        const streams = await waitFor(async () => {
          const found = await probeStreams(url);
          return found.some((s) => s.codec_type === 'audio') ? found : undefined;
        }, `audio in ${url}`, 30_000, 500);
        expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });
        expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264' });
      }
      expect((await transcoders()).map((t) => [t.from, t.to, t.players])).toEqual([['opus', 'aac', 2]]);
    });
  });

  it('AAC over RTMP to a player that takes only Opus: Opus frames on the stream clock that decode', async () => {
    const publisher = publishTestPattern({ url: server.rtmpUrl('live/aac'), audioRate: 44100 });
    let opusPlayer: Subscriber | undefined;
    let plainPlayer: Subscriber | undefined;
    try {
      await waitFor(() => server.registry.get('live/aac')?.isReady && server.registry.get('live/aac')?.publisher?.tracks.audio, 'the AAC publish', 30_000);
      const opus = new CollectingSink(['opus']);
      const plain = new CollectingSink();
      const info = { protocol: 'test', remoteAddress: 'test', query: new URLSearchParams() };
      opusPlayer = server.registry.subscribe('live/aac', info, opus);
      plainPlayer = server.registry.subscribe('live/aac', info, plain);
      await waitFor(() => opus.audio.length >= 100, 'Opus frames', 20_000);
      expect(opus.configs.map((c) => c.codec)).toEqual(['opus']);
      expect(opus.audio.every((f) => f.codec === 'opus')).toBe(true);
      expect(plain.audio.every((f) => f.codec === 'aac')).toBe(true);
      // On the stream's clock: monotonic, and where the original audio is (within the transcoder's latency).
      const dts = opus.audio.map((f) => f.dts);
      expect(dts.every((d, i) => i === 0 || d >= dts[i - 1])).toBe(true);
      const lastAac = plain.audio[plain.audio.length - 1].dts;
      expect(Math.abs(dts[dts.length - 1] - lastAac)).toBeLessThan(500);
      const forAac = (await transcoders()).filter((t) => t.streamPath === 'live/aac');
      expect(forAac.map((t) => [t.from, t.to, t.players])).toEqual([['aac', 'opus', 1]]);

      const writer = new OggOpusWriter(1);
      const ogg = Buffer.concat([writer.headers(opus.configs[0].record), ...opus.audio.map((f) => writer.packet(f.data[0]))]);
      const decoder = spawnTracked(ffmpegPath(), ['-hide_banner', '-v', 'error', '-f', 'ogg', '-i', 'pipe:0', '-f', 'null', '-']);
      decoder.child.stdin!.end(ogg);
      expect(await decoder.exited).toBe(0);
      expect(decoder.stderr()).toBe('');
    } finally {
      if (opusPlayer) server.registry.unsubscribe(opusPlayer);
      if (plainPlayer) server.registry.unsubscribe(plainPlayer);
      await stopTracked(publisher);
    }
    await waitFor(async () => !(await transcoders()).some((t) => t.streamPath === 'live/aac'), 'no transcoder after the player left');
  });
});
