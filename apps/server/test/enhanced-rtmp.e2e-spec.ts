import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import {
  buildFlvHeader,
  buildVideoConfigBody,
  buildVideoFrameBody,
  encodeFlvTag,
  FlvTagReader,
  fourccNumber,
  parseVideoBody,
  VIDEO_FOURCC,
  VideoConfig,
} from '@m7s/media';
import { MessageType, RtmpClient, RtmpMessage } from '@m7s/rtmp';
import {
  enhancedFlvFfprobePath,
  killAllTracked,
  makeAv1Fixture,
  makeH265Fixture,
  makeTempDir,
  ProbeStream,
  removeTempDir,
  run,
  startTestServer,
  TestServer,
  VideoFixture,
  waitFor,
} from '@m7s/test-kit';

/** A video message as a reader got it. */
interface Got {
  timestamp: number;
  body: Buffer;
}

/** An RTMP player (our client, announcing Enhanced RTMP) that keeps every video message body. */
async function rtmpReader(url: string): Promise<{ client: RtmpClient; video: Got[]; statuses: string[] }> {
  const client = await RtmpClient.connect(url, { enhanced: true });
  const reader = { client, video: [] as Got[], statuses: [] as string[] };
  client.on('status', (info: Record<string, unknown>) => reader.statuses.push(String(info.code)));
  client.on('media', (msg: RtmpMessage) => {
    if (msg.type === MessageType.Video) reader.video.push({ timestamp: msg.timestamp, body: Buffer.from(msg.payload) });
  });
  await client.play();
  return reader;
}

/** An HTTP-FLV player that demuxes with our FlvTagReader and keeps every video tag body. */
function httpFlvReader(url: string): { video: Got[]; status: () => number; ended: () => boolean; close: () => void } {
  const flv = new FlvTagReader();
  const video: Got[] = [];
  let status = 0;
  let ended = false;
  const req = request(url, (res) => {
    status = res.statusCode ?? 0;
    res.on('data', (chunk: Buffer) => {
      for (const tag of flv.push(chunk)) if (tag.type === 9) video.push({ timestamp: tag.timestamp, body: Buffer.from(tag.body) });
    });
    res.on('end', () => (ended = true));
    res.on('close', () => (ended = true));
  });
  req.on('error', () => (ended = true));
  req.end();
  return { video, status: () => status, ended: () => ended, close: () => req.destroy() };
}

/** Publishes a fixture with our client over Enhanced RTMP, paced in real time; resolves when every frame went out. */
async function publishFixture(url: string, fixture: VideoFixture): Promise<{ client: RtmpClient; sent: Buffer[]; config: Buffer }> {
  const client = await RtmpClient.connect(url, { enhanced: true });
  await client.publish();
  const { config: c } = fixture;
  client.sendMetadata({ width: c.width, height: c.height, framerate: fixture.fps, videocodecid: fourccNumber(VIDEO_FOURCC[fixture.codec]) });
  const config = buildVideoConfigBody(c);
  client.sendMedia(MessageType.Video, 0, config);
  const sent: Buffer[] = [];
  const start = Date.now();
  for (const frame of fixture.frames) {
    const due = start + frame.dts - Date.now();
    if (due > 0) await new Promise((resolve) => setTimeout(resolve, due)); // pacing, not a wait for a condition
    const body = buildVideoFrameBody(fixture.codec, frame.keyFrame, 0, frame.units);
    client.sendMedia(MessageType.Video, frame.dts, body);
    sent.push(body);
  }
  return { client, sent, config };
}

/** What a reader must have got: the config, then every frame in order, identical, from a key frame. */
function expectSameAsSent(got: Got[], fixture: VideoFixture, sent: Buffer[]): void {
  const parsed = got.map((g) => ({ ...g, result: parseVideoBody(g.body) }));
  const configs = parsed.filter((p) => p.result.type === 'config');
  expect(configs.length).toBeGreaterThanOrEqual(1);
  expect(parsed[0].result.type).toBe('config');
  const config = (parsed[0].result as { config: VideoConfig }).config;
  expect(config).toMatchObject({ codec: fixture.codec, width: 320, height: 240 });
  expect(config.record.equals(fixture.config.record)).toBe(true);

  const frames = parsed.filter((p) => p.result.type === 'frame');
  expect(frames.length).toBe(fixture.frames.length);
  expect(fixture.frames[0].keyFrame).toBe(true);
  for (let i = 0; i < frames.length; i++) {
    const result = frames[i].result as { type: 'frame'; codec: string; keyFrame: boolean; units: Buffer[] };
    expect(result.codec).toBe(fixture.codec);
    expect(result.keyFrame).toBe(fixture.frames[i].keyFrame);
    // the payload is what we sent, byte for byte, and so are the units it carries
    if (!frames[i].body.equals(sent[i])) throw new Error(`frame ${i}: body differs from the one sent (${frames[i].body.length} vs ${sent[i].length} bytes)`);
    expect(Buffer.concat(result.units).equals(Buffer.concat(fixture.frames[i].units))).toBe(true);
    expect(frames[i].timestamp - frames[0].timestamp).toBe(fixture.frames[i].dts - fixture.frames[0].dts);
  }
}

/** ffprobe -count_frames of a url (decodes it to the end) with the Enhanced-FLV-capable build. */
async function probeDecoded(url: string): Promise<{ streams: Array<ProbeStream & { nb_read_frames?: string }>; stderr: string }> {
  const { code, stdout, stderr } = await run(enhancedFlvFfprobePath(), ['-v', 'error', '-rw_timeout', '15000000', '-count_frames', '-show_streams', '-of', 'json', url], 60_000);
  if (code !== 0) throw new Error(`ffprobe ${url} failed (${code}): ${stderr}`);
  return { streams: (JSON.parse(stdout) as { streams: Array<ProbeStream & { nb_read_frames?: string }> }).streams, stderr };
}

describe('Enhanced RTMP: H.265 and AV1 published with our client, read back over RTMP and HTTP-FLV', () => {
  let server: TestServer;
  let dir: string;
  let hevc: VideoFixture;
  let av1: VideoFixture;
  const clients: RtmpClient[] = [];
  const closers: Array<() => void> = [];

  beforeAll(async () => {
    dir = await makeTempDir('m7s-enhanced-rtmp-');
    [hevc, av1] = await Promise.all([makeH265Fixture(dir, { duration: 3 }), makeAv1Fixture(dir, { duration: 2 })]);
    server = await startTestServer();
  });

  afterAll(async () => {
    for (const close of closers) close();
    for (const client of clients) client.close();
    await killAllTracked();
    await server?.close();
    await removeTempDir(dir);
  });

  it('has fixtures cut into frames: 320x240, a key frame every 25 frames', () => {
    for (const [fixture, count] of [
      [hevc, 75],
      [av1, 50],
    ] as const) {
      expect(fixture.config).toMatchObject({ width: 320, height: 240 });
      expect(fixture.frames.length).toBe(count);
      expect(fixture.frames.filter((f) => f.keyFrame).map((f) => f.dts)).toEqual(Array.from({ length: count / 25 }, (_, i) => i * 1000));
    }
  });

  // The precondition of the ffprobe checks below: this ffprobe build reads Enhanced FLV at all.
  it('uses an ffprobe that reads Enhanced FLV (H.265 and AV1 in a file we write)', async () => {
    for (const fixture of [hevc, av1]) {
      const tags = [buildFlvHeader(false, true), encodeFlvTag(9, 0, buildVideoConfigBody(fixture.config))];
      for (const f of fixture.frames) tags.push(encodeFlvTag(9, f.dts, buildVideoFrameBody(fixture.codec, f.keyFrame, 0, f.units)));
      const file = join(dir, `${fixture.codec}.flv`);
      await writeFile(file, Buffer.concat(tags));
      const { streams, stderr } = await probeDecoded(file);
      expect(stderr).toBe('');
      expect(streams[0]).toMatchObject({ codec_name: fixture.codec === 'h265' ? 'hevc' : 'av1', width: 320, height: 240, nb_read_frames: String(fixture.frames.length) });
    }
  });

  for (const name of ['hevc', 'av1'] as const) {
    it(`${name}: a waiting RTMP player and HTTP-FLV players get the config and every frame as sent; ffprobe decodes it`, async () => {
      const fixture = name === 'hevc' ? hevc : av1;
      const path = `live/${name}`;
      const player = await rtmpReader(server.rtmpUrl(path));
      clients.push(player.client);
      const flv = httpFlvReader(server.flvUrl(path));
      closers.push(flv.close);
      // ffprobe (FFmpeg 6.x) over HTTP-FLV, reading until the stream ends: decodes every frame
      const probe = probeDecoded(server.flvUrl(path));
      probe.catch(() => undefined);
      await waitFor(() => (server.registry.get(path)?.subscribers.size ?? 0) >= 3, 'three readers waiting', 15_000);

      const { client, sent, config } = await publishFixture(server.rtmpUrl(path), fixture);
      clients.push(client);
      await waitFor(() => player.video.filter((v) => parseVideoBody(v.body).type === 'frame').length >= sent.length, 'every frame at the RTMP player', 15_000);
      client.close();
      await waitFor(() => player.statuses.includes('NetStream.Play.UnpublishNotify'), 'the unpublish notice', 15_000);
      await waitFor(() => flv.ended(), 'the HTTP-FLV response to end with the publish', 15_000);

      expect(player.video[0].body.equals(config)).toBe(true);
      expectSameAsSent(player.video, fixture, sent);
      expect(flv.status()).toBe(200);
      expect(flv.video[0].body.equals(config)).toBe(true);
      expectSameAsSent(flv.video, fixture, sent);

      const { streams, stderr } = await probe;
      expect(stderr).toBe('');
      expect(streams).toHaveLength(1);
      expect(streams[0]).toMatchObject({ codec_type: 'video', codec_name: name, width: 320, height: 240, nb_read_frames: String(fixture.frames.length) });
      await waitFor(() => !server.registry.get(path)?.publisher, 'the publisher to be gone', 15_000);
    });
  }
});
