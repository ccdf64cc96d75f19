import { ConsoleLogger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, Socket } from 'node:net';
import { framesOf, killAllTracked, playHttpFlv, publishTestPattern, startTestServer, TestServer, waitFor } from '@m7s/test-kit';
import { chunkFirstHeader, encodeMessage, RtmpClientHandshake } from '@m7s/rtmp';

/** Opens a raw TCP connection to the RTMP port; resolves with the socket and a promise of its close. */
async function rawConnection(port: number): Promise<{ socket: Socket; closed: Promise<void>; received: () => number }> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = 0;
  socket.on('data', (d: Buffer) => (received += d.length));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, closed, received: () => received };
}

/** A raw connection that has completed the (plain) handshake as a client. */
async function handshaken(port: number) {
  const raw = await rawConnection(port);
  const handshake = new RtmpClientHandshake();
  const done = new Promise<void>((resolve) => {
    raw.socket.on('data', (d: Buffer) => {
      if (handshake.done) return;
      const result = handshake.push(d);
      if (result.send) raw.socket.write(result.send);
      if (result.done) resolve();
    });
  });
  raw.socket.write(handshake.start());
  await done;
  return raw;
}

function withDeadline<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref())]);
}

describe('RTMP junk: each bad connection is closed with a logged reason, other streams keep flowing', () => {
  let server: TestServer;
  let warnings: string[];
  let warn: jest.SpyInstance;

  beforeAll(async () => {
    warn = jest.spyOn(ConsoleLogger.prototype, 'warn');
    server = await startTestServer({ rtmp: { handshakeTimeout: '1s', maxMessageSize: '1mb' } });
    publishTestPattern({ url: server.rtmpUrl('live/steady') });
    await waitFor(() => server.registry.get('live/steady')?.isReady, 'the steady stream');
  });

  beforeEach(() => {
    warnings = [];
    warn.mockImplementation((message: unknown) => {
      warnings.push(JSON.stringify(message));
    });
  });

  afterAll(async () => {
    warn.mockRestore();
    await killAllTracked();
    await server?.close();
  });

  async function expectSteadyStreamFlows(during: () => Promise<void>): Promise<void> {
    const player = playHttpFlv(server.flvUrl('live/steady'));
    const publisher = server.registry.get('live/steady')!.publisher;
    await waitFor(() => framesOf(player).length > 0, 'the steady player');
    await during();
    const before = framesOf(player).length;
    await waitFor(() => framesOf(player).length > before + 25, 'the steady stream to keep flowing');
    expect(server.registry.get('live/steady')!.publisher).toBe(publisher);
    player.close();
  }

  it('random bytes', async () => {
    await expectSteadyStreamFlows(async () => {
      const raw = await rawConnection(server.rtmpPort);
      raw.socket.write(Buffer.concat([Buffer.from([7]), randomBytes(4000)]));
      await withDeadline(raw.closed, 'close after random bytes');
      await waitFor(() => warnings.some((w) => w.includes('BAD_VERSION') || w.includes('version')), 'a logged reason');
    });
  });

  it('a truncated handshake', async () => {
    await expectSteadyStreamFlows(async () => {
      const raw = await rawConnection(server.rtmpPort);
      raw.socket.write(Buffer.concat([Buffer.from([3]), randomBytes(700)]));
      await withDeadline(raw.closed, 'close after the handshake timeout');
      await waitFor(() => warnings.some((w) => w.includes('handshake timeout')), 'a logged reason');
    });
  });

  it('a chunk larger than the limit', async () => {
    await expectSteadyStreamFlows(async () => {
      const raw = await handshaken(server.rtmpPort);
      raw.socket.write(chunkFirstHeader(3, 20, 0, 0, 0xfffff0));
      raw.socket.write(randomBytes(128));
      await withDeadline(raw.closed, 'close after an oversized message');
      await waitFor(() => warnings.some((w) => w.includes('protocol error')), 'a logged reason');
    });
  });

  it('garbage AMF in a command', async () => {
    await expectSteadyStreamFlows(async () => {
      const raw = await handshaken(server.rtmpPort);
      raw.socket.write(encodeMessage({ csid: 3, type: 20, streamId: 0, timestamp: 0, payload: Buffer.from([0x02, 0xff, 0xff, 0x41, 0x0b, 0x99]) }, 128));
      await withDeadline(raw.closed, 'close after garbage AMF');
      await waitFor(() => warnings.some((w) => w.includes('AMF') || w.includes('BAD_COMMAND')), 'a logged reason');
    });
  });

  it('malformed video from a publisher closes only that publisher', async () => {
    await expectSteadyStreamFlows(async () => {
      const { RtmpClient, MessageType } = await import('@m7s/rtmp');
      const bad = await RtmpClient.connect(server.rtmpUrl('live/bad'));
      await bad.publish();
      bad.sendMedia(MessageType.Video, 0, Buffer.from([0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64])); // truncated avcC
      await withDeadline(new Promise((r) => bad.once('close', r)), 'the bad publisher to be closed');
      expect(server.registry.get('live/bad')).toBeUndefined();
    });
  });

  it('mutated captures of a real ffmpeg session, many at once', async () => {
    const capture = readFileSync(join(__dirname, '../../../libs/rtmp/test-fixtures/ffmpeg-publish.bin'));
    await expectSteadyStreamFlows(async () => {
      const sessions = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const raw = await rawConnection(server.rtmpPort);
          const mutated = Buffer.from(capture);
          // Keep the handshake mostly intact so the mutations reach the chunk stream and AMF.
          for (let k = 0; k < 20; k++) {
            const at = 1537 * 2 + Math.floor(Math.random() * Math.max(1, mutated.length - 1537 * 2));
            mutated[at] = Math.floor(Math.random() * 256);
          }
          if (i % 4 === 0) mutated[0] = 0x11;
          raw.socket.end(mutated);
          return raw;
        }),
      );
      // Each either completes (its publish ends when the bytes run out) or is closed; none takes the server down.
      await withDeadline(Promise.all(sessions.map((s) => s.closed)), 'every mutated session to end', 30_000);
    });
  });
});
