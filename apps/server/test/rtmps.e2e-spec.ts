import { parseVideoBody } from '@m7s/media';
import { MessageType, RtmpClient, RtmpMessage } from '@m7s/rtmp';
import {
  framesOf,
  freePort,
  killAllTracked,
  makeSelfSignedCert,
  makeTempDir,
  playRtmp,
  probeStreams,
  ProbeStream,
  publishTestPattern,
  removeTempDir,
  startTestServer,
  TestPlayer,
  TestServer,
  waitFor,
} from '@m7s/test-kit';

function expectH264AndAac(streams: ProbeStream[]): void {
  expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
  expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });
}

describe('RTMPS: ffmpeg publishes over TLS, read back over RTMPS, RTMP and HTTP-FLV', () => {
  let server: TestServer;
  let dir: string;
  let tlsPort: number;
  let secureUrl: string;
  const players: TestPlayer[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('m7s-rtmps-');
    const { cert, key } = await makeSelfSignedCert(dir);
    tlsPort = await freePort();
    server = await startTestServer({ rtmp: { tls: { listen: `127.0.0.1:${tlsPort}`, cert, key } } });
    secureUrl = `rtmps://127.0.0.1:${tlsPort}/live/secure`;
    // ffmpeg's TLS does not verify the server certificate unless told to (tls_verify=0 by default)
    publishTestPattern({ url: secureUrl, size: '320x240', fps: 25, gop: 25 });
    await waitFor(() => server.registry.get('live/secure')?.isReady, 'the stream published over RTMPS', 20_000);
  });

  afterAll(async () => {
    for (const player of players) player.close();
    await killAllTracked();
    await server?.close();
    await removeTempDir(dir);
  });

  it('took the publish on the TLS listener', () => {
    expect(server.registry.get('live/secure')?.publisher?.info.protocol).toBe('rtmps');
  });

  it('plays back over RTMPS (ffprobe)', async () => {
    expectH264AndAac(await probeStreams(secureUrl));
  });

  it('plays back over plain RTMP and HTTP-FLV (ffprobe)', async () => {
    const [rtmp, flv] = await Promise.all([probeStreams(server.rtmpUrl('live/secure')), probeStreams(server.flvUrl('live/secure'))]);
    expectH264AndAac(rtmp);
    expectH264AndAac(flv);
  });

  it('plays back over RTMPS with our client, starting at a key frame', async () => {
    await expect(RtmpClient.connect(secureUrl, { timeoutMs: 5_000 })).rejects.toThrow(/self[- ]signed|certificate/i);
    // playRtmp connects with the defaults (verification on); this one is made by hand with rejectUnauthorized: false
    const client = await RtmpClient.connect(secureUrl, { rejectUnauthorized: false });
    const player = await wrap(client);
    players.push(player);
    await waitFor(() => framesOf(player).length >= 50, '50 video frames over RTMPS', 15_000);
    const frames = framesOf(player);
    expect(frames[0].keyFrame).toBe(true);
    for (let i = 1; i < frames.length; i++) expect(frames[i].timestamp).toBeGreaterThan(frames[i - 1].timestamp);
    expect(player.video.find((v) => v.type === 'config')).toBeDefined();
    expect(player.audioCount).toBeGreaterThan(0);
    // and a plain RTMP player of ours alongside
    const plain = await playRtmp(server.rtmpUrl('live/secure'));
    players.push(plain);
    await waitFor(() => framesOf(plain).length >= 10, '10 video frames over RTMP', 15_000);
  });
});

/** The kit's TestPlayer bookkeeping over an already connected client. */
async function wrap(client: RtmpClient): Promise<TestPlayer> {
  const player: TestPlayer = { askedAt: Date.now(), video: [], audioCount: 0, bytes: 0, statuses: [], ended: false, close: () => client.close() };
  client.on('status', (info: Record<string, unknown>) => player.statuses.push(String(info.code)));
  client.on('close', () => (player.ended = true));
  client.on('media', (msg: RtmpMessage) => {
    player.bytes += msg.payload.length;
    if (msg.type === MessageType.Video) {
      const r = parseVideoBody(msg.payload);
      player.video.push({ at: Date.now(), timestamp: msg.timestamp, type: r.type, keyFrame: r.type === 'frame' && r.keyFrame });
    } else if (msg.type === MessageType.Audio) player.audioCount++;
  });
  await client.play();
  return player;
}
