import { createServer, IncomingMessage, Server } from 'node:http';
import { WebSocket } from 'ws';
import { signedQuery } from '@m7s/auth';
import { RtmpClient, RtmpStatusError } from '@m7s/rtmp';
import { freePort, killAllTracked, probeStreams, publishTestPattern, startTestServer, stopTracked, TestServer, waitFor } from '@m7s/test-kit';

const PUBLISH_KEY = 'publish-signing-key';
const PLAY_KEY = 'play-signing-key';
const nowSeconds = () => Math.floor(Date.now() / 1000);
const publishedPaths = (server: TestServer) => server.registry.list().filter((s) => s.publisher).map((s) => s.path);

/** What an RTMP publish or play was answered with: 'ok', or the error status code and its description. */
async function rtmpAttempt(url: string, action: 'publish' | 'play'): Promise<{ code: string; description: string }> {
  const client = await RtmpClient.connect(url);
  try {
    await (action === 'publish' ? client.publish() : client.play());
    return { code: 'ok', description: '' };
  } catch (error) {
    if (error instanceof RtmpStatusError) return { code: error.code, description: error.message };
    throw error;
  } finally {
    client.close();
  }
}

describe('stream auth: URL signing (RTMP publish, HTTP-FLV / WS-FLV play)', () => {
  let server: TestServer;

  beforeAll(async () => {
    // Keys set per protocol section: rtmp for the publish, flv for HTTP-FLV and WS-FLV plays.
    server = await startTestServer({ rtmp: { publish: { key: PUBLISH_KEY } }, flv: { subscribe: { key: PLAY_KEY } } });
  });

  afterAll(async () => {
    await killAllTracked();
    await server?.close();
  });

  it('accepts an ffmpeg publish with a valid signature, played back over HTTP-FLV with a signed URL', async () => {
    const path = 'live/signed';
    const publisher = publishTestPattern({ url: `${server.rtmpUrl(path)}?${signedQuery(PUBLISH_KEY, path, nowSeconds() + 60)}` });
    await waitFor(() => server.registry.get(path)?.isReady, 'the signed publish', 20_000);
    const streams = await probeStreams(`${server.flvUrl(path)}?${signedQuery(PLAY_KEY, path, nowSeconds() + 60)}`);
    expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);

    const unsigned = await fetch(server.flvUrl(path));
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('signed URL is required') });
    const wrongKey = await fetch(`${server.flvUrl(path)}?${signedQuery(PUBLISH_KEY, path, nowSeconds() + 60)}`);
    expect(wrongKey.status).toBe(403);
    await wrongKey.body?.cancel();
    await stopTracked(publisher);
  });

  it('refuses an unsigned ffmpeg publish: ffmpeg fails with the server error', async () => {
    const publisher = publishTestPattern({ url: server.rtmpUrl('live/unsigned'), duration: 5 });
    const code = await publisher.exited;
    expect(code).not.toBe(0);
    expect(publisher.stderr()).toContain('signed URL is required');
    expect(publishedPaths(server)).not.toContain('live/unsigned');
  });

  it.each([
    ['unsigned', '', 'signed URL is required'],
    ['wrongly signed', () => signedQuery('not-the-key', 'live/x', nowSeconds() + 60), 'wrong secret'],
    ['signed for another stream', () => signedQuery(PUBLISH_KEY, 'live/other', nowSeconds() + 60), 'wrong secret'],
    ['expired', () => signedQuery(PUBLISH_KEY, 'live/x', nowSeconds() - 10), 'expired'],
    ['with a malformed secret', () => `secret=abc&expire=${(nowSeconds() + 60).toString(16)}`, '32 hex digits'],
  ])('refuses an RTMP publish %s with NetStream.Publish.Denied', async (_name, query, reason) => {
    const q = typeof query === 'function' ? query() : query;
    const answer = await rtmpAttempt(`${server.rtmpUrl('live/x')}${q ? `?${q}` : ''}`, 'publish');
    expect(answer.code).toBe('NetStream.Publish.Denied');
    expect(answer.description).toContain(reason);
    expect(publishedPaths(server)).not.toContain('live/x');
  });

  it('accepts an RTMP publish signed in uppercase hex (our client)', async () => {
    const q = signedQuery(PUBLISH_KEY, 'live/upper', nowSeconds() + 60).replace(/secret=([0-9a-f]+)/, (_m, hex: string) => `secret=${hex.toUpperCase()}`);
    expect(await rtmpAttempt(`${server.rtmpUrl('live/upper')}?${q}`, 'publish')).toEqual({ code: 'ok', description: '' });
  });

  it('closes an unsigned WS-FLV play with a policy-violation code', async () => {
    const ws = new WebSocket(server.wsFlvUrl('live/signed'));
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain('UNAUTHORIZED');
  });

  it('leaves RTMP plays open (no rtmp subscribe key)', async () => {
    expect(await rtmpAttempt(server.rtmpUrl('live/anyone'), 'play')).toEqual({ code: 'ok', description: '' });
  });
});

interface HookCall {
  action: string;
  protocol: string;
  streamPath: string;
  query: Record<string, string>;
  remoteAddress: string;
}

describe('stream auth: the external hook', () => {
  let hook: Server;
  let hookUrl: string;
  const calls: HookCall[] = [];
  const servers: TestServer[] = [];

  beforeAll(async () => {
    // Allows everything but plays without ?token=good; never answers ?hang=1.
    hook = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const call = JSON.parse(body) as HookCall;
        calls.push(call);
        if (call.query.hang === '1') return;
        res.statusCode = call.action === 'play' && call.query.token !== 'good' ? 403 : 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const address = hook.address();
    hookUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/auth`;
  });

  afterAll(async () => {
    await killAllTracked();
    for (const server of servers) await server.close();
    hook.closeAllConnections();
    await new Promise((resolve) => hook.close(resolve));
  });

  async function serverWithHook(streamAuth: Record<string, unknown>): Promise<TestServer> {
    const server = await startTestServer({ streamAuth });
    servers.push(server);
    return server;
  }

  it('denies a play: HTTP-FLV answers 403, RTMP play fails; allowed ones go through', async () => {
    const server = await serverWithHook({ hookUrl, hookTimeout: '500ms' });
    expect(await rtmpAttempt(server.rtmpUrl('live/hooked'), 'publish')).toEqual({ code: 'ok', description: '' });
    expect(calls.at(-1)).toMatchObject({ action: 'publish', protocol: 'rtmp', streamPath: 'live/hooked', query: {}, remoteAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });

    const flv = await fetch(`${server.flvUrl('live/hooked')}?token=bad`);
    expect(flv.status).toBe(403);
    expect(await flv.json()).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('refused by the auth hook (HTTP 403)') });
    expect(calls.at(-1)).toMatchObject({ action: 'play', protocol: 'http-flv', streamPath: 'live/hooked', query: { token: 'bad' } });

    const rtmp = await rtmpAttempt(server.rtmpUrl('live/hooked'), 'play');
    expect(rtmp.code).toBe('NetStream.Play.Failed');
    expect(rtmp.description).toContain('auth hook');
    expect(calls.at(-1)).toMatchObject({ action: 'play', protocol: 'rtmp' });

    expect(await rtmpAttempt(`${server.rtmpUrl('live/hooked')}?token=good`, 'play')).toEqual({ code: 'ok', description: '' });
  });

  it('denies when the hook does not answer in time (fail-closed)', async () => {
    const server = await serverWithHook({ hookUrl, hookTimeout: '300ms' });
    const started = Date.now();
    const flv = await fetch(`${server.flvUrl('live/slow')}?hang=1`);
    expect(flv.status).toBe(403);
    expect(await flv.json()).toMatchObject({ message: expect.stringContaining('no answer within 300 ms') });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('publishes nothing for a client that left while it was being authorized', async () => {
    const server = await serverWithHook({ hookUrl, hookTimeout: '300ms', failOpen: true });
    const leaving = await RtmpClient.connect(`${server.rtmpUrl('live/gone')}?hang=1`);
    const attempt = leaving.publish().catch(() => 'closed');
    await waitFor(() => calls.some((c) => c.streamPath === 'live/gone'), 'the hook to be asked');
    leaving.conn.socket.destroy();
    expect(await attempt).toBe('closed');
    // Asked after the first, under the same delay: once it is answered (fail-open), the first has settled too.
    expect(await rtmpAttempt(`${server.rtmpUrl('live/stays')}?hang=1`, 'publish')).toEqual({ code: 'ok', description: '' });
    expect(server.registry.list().map((s) => s.path)).not.toContain('live/gone');
  });

  it('asks only for the actions it is enabled for', async () => {
    const server = await serverWithHook({ hookUrl, play: false });
    const before = calls.length;
    const flv = await fetch(`${server.flvUrl('live/free')}?waitTimeout=0`);
    expect(flv.status).toBe(404); // not refused: no publisher
    await flv.body?.cancel();
    expect(calls.length).toBe(before);
  });

  it.each([
    [true, 'ok'],
    [false, 'NetStream.Publish.Denied'],
  ])('with the hook down and failOpen %s, a publish is answered %s', async (failOpen, expected) => {
    const deadHook = `http://127.0.0.1:${await freePort()}/auth`;
    const server = await serverWithHook({ hookUrl: deadHook, failOpen });
    const answer = await rtmpAttempt(server.rtmpUrl('live/down'), 'publish');
    expect(answer.code).toBe(expected);
    if (!failOpen) expect(answer.description).toContain('auth hook is unreachable');
  });
});
