import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { FlvTagReader, parseVideoBody } from '@m7s/media';
import {
  ChunkDecoder,
  decodeCommand,
  encodeConnect,
  encodeMessage,
  MessageType,
  RtmpClient,
  RtmpClientHandshake,
  RtmpMessage,
} from '@m7s/rtmp';
import { ffmpegPath, killAllTracked, run, startTestServer, TestServer, waitFor } from '@m7s/test-kit';

describe('RTMP protocol details with real peers', () => {
  let server: TestServer;
  let dir: string;
  let tags: ReturnType<FlvTagReader['push']>;

  beforeAll(async () => {
    server = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), 'm7s-rtmp-'));
    const file = join(dir, 'clip.flv');
    const made = await run(ffmpegPath(), ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine', '-t', '3', '-c:v', 'libx264', '-g', '25', '-c:a', 'aac', '-f', 'flv', file]);
    expect(made.code).toBe(0);
    tags = new FlvTagReader().push(readFileSync(file));
  });

  afterAll(async () => {
    await killAllTracked();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('relays every tag unchanged between our client (digest handshake, tiny chunks) and a player', async () => {
    const player = await RtmpClient.connect(server.rtmpUrl('app2/clip'));
    const received: RtmpMessage[] = [];
    player.on('media', (msg: RtmpMessage) => msg.type === MessageType.Video && received.push(msg));
    const playing = player.play();
    const publisher = await RtmpClient.connect(server.rtmpUrl('app2/clip'), { digest: true, chunkSize: 64 });
    expect(publisher.conn.outChunkSize).toBe(64);
    await publisher.publish();
    await playing;
    for (const tag of tags) if (tag.type !== 18) publisher.sendMedia(tag.type as 8 | 9, tag.timestamp, tag.body);
    // The player waited from the start, so it gets the config and then every frame, byte for byte.
    const sentFrames = tags.filter((t) => t.type === 9 && parseVideoBody(t.body).type === 'frame');
    const framesOf = () => received.filter((m) => parseVideoBody(m.payload).type === 'frame');
    await waitFor(() => framesOf().length >= sentFrames.length, 'every video frame at the player');
    expect(parseVideoBody(received[0].payload).type).toBe('config');
    const frames = framesOf();
    expect(frames.map((m) => m.payload.toString('base64'))).toEqual(sentFrames.map((t) => t.body.toString('base64')));
    publisher.close();
    player.close();
  });

  it('accepts an AMF3 connect command (message type 17)', async () => {
    const socket = connect({ host: '127.0.0.1', port: server.rtmpPort });
    const handshake = new RtmpClientHandshake();
    const decoder = new ChunkDecoder();
    const replies: string[] = [];
    socket.on('data', (data: Buffer) => {
      if (!handshake.done) {
        const result = handshake.push(data);
        if (result.send) socket.write(result.send);
        if (!result.done) return;
        const connectCommand = encodeConnect(1, { app: 'live', tcUrl: `rtmp://127.0.0.1:${server.rtmpPort}/live`, objectEncoding: 3 });
        socket.write(encodeMessage({ csid: 3, type: MessageType.CommandAmf3, streamId: 0, timestamp: 0, payload: Buffer.concat([Buffer.from([0]), connectCommand]) }, 128));
        data = result.rest ?? Buffer.alloc(0);
      }
      for (const msg of decoder.push(data)) if (msg.type === MessageType.CommandAmf0) replies.push(decodeCommand(msg).name);
    });
    socket.write(handshake.start());
    await waitFor(() => replies.includes('_result'), 'the connect _result');
    socket.destroy();
  });

  it('serves many apps and streams at once', async () => {
    const names = ['live/a', 'live/b', 'other/a', 'deep/x/y'];
    const publishers = await Promise.all(names.map(async (n) => {
      const c = await RtmpClient.connect(server.rtmpUrl(n));
      await c.publish();
      return c;
    }));
    const keyTag = tags.find((t) => t.type === 9 && parseVideoBody(t.body).type === 'frame')!;
    const configTag = tags.find((t) => t.type === 9)!;
    publishers.forEach((p) => {
      p.sendMedia(9, 0, configTag.body);
      p.sendMedia(9, 0, keyTag.body);
    });
    await waitFor(() => names.every((n) => server.registry.get(n)?.isReady), 'every stream ready');
    expect(server.registry.list().map((s) => s.path)).toEqual(expect.arrayContaining(names));
    publishers.forEach((p) => p.close());
  });
});
