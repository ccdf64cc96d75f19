/// <reference lib="dom" />
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { signedQuery } from '@m7s/auth';
import {
  ApiClient,
  freePort,
  killAllTracked,
  launchChromium,
  loginApi,
  playWithWerift,
  publishTestPattern,
  startTestServer,
  TestServer,
  waitFor,
  WebrtcPageStats,
  WeriftPlayer,
} from '@m7s/test-kit';

interface SessionInfo {
  id: string;
  kind: string;
  state: string;
  streamPath: string;
  selectedCandidatePair: string | null;
  droppedDatagrams: number;
  counters: Record<string, number>;
}

const PATH = 'live/robust';
const ICE_SERVERS = [{ urls: ['stun:stun.example.net'] }, { urls: ['turn:turn.example.net?transport=udp'], username: 'user', credential: 'secret' }];

/** A WebRTC-looking offer with the media sections given (enough to pass the SDP checks). */
function offer(media: string[]): string {
  return ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=fingerprint:sha-256 AA:BB:CC', 'a=setup:actpass', ...media, ''].join('\r\n');
}

describe('WebRTC robustness: bad offers, the session resource, ICE restart, garbage on the ICE port, 50 connect/disconnect cycles', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: ApiClient;

  beforeAll(async () => {
    server = await startTestServer({ webrtc: { iceServers: ICE_SERVERS } });
    browser = await launchChromium({ webrtc: true });
    admin = await loginApi(server);
    publishTestPattern({ url: server.rtmpUrl(PATH), fps: 25, gop: 25, size: '320x240' });
    await waitFor(() => server.registry.get(PATH)?.isReady, 'the RTMP stream', 20_000);
  });

  afterAll(async () => {
    await browser?.close();
    await killAllTracked();
    await server?.close();
  });

  const sessions = async (): Promise<SessionInfo[]> => ((await admin.get('/api/webrtc/sessions')).body as { list: SessionInfo[] }).list;
  const post = (url: string, body: string, type = 'application/sdp') => fetch(url, { method: 'POST', headers: { 'content-type': type }, body });

  async function openPage(): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${server.httpUrl}/webrtc/`);
    await page.waitForFunction(() => typeof window.m7s === 'object');
    return page;
  }
  const stats = (page: Page): Promise<WebrtcPageStats> => page.evaluate(() => window.m7s.stats());
  const decoded = async (page: Page): Promise<number> => (await stats(page)).video?.framesDecoded ?? 0;

  it.each([
    ['a body that is not application/sdp', 'play', 'v=0', 'text/plain', 415, /Content-Type must be application\/sdp/],
    ['malformed SDP', 'play', 'hello, world', 'application/sdp', 400, /malformed offer/],
    ['an offer without any m-line', 'push', offer([]), 'application/sdp', 400, /no m-line/],
    ['an offer without audio or video (data channel only)', 'play', offer(['m=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:0', 'a=sctp-port:5000']), 'application/sdp', 422, /no audio or video/],
    ['a WHIP offer with unknown codecs only', 'push', offer(['m=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0', 'a=sendonly', 'a=rtpmap:96 FOO/90000']), 'application/sdp', 406, /offers FOO/],
    ['a WHEP offer with unknown codecs only', 'play', offer(['m=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0', 'a=recvonly', 'a=rtpmap:96 FOO/90000', 'm=audio 9 UDP/TLS/RTP/SAVPF 97', 'a=mid:1', 'a=recvonly', 'a=rtpmap:97 BAR/8000']), 'application/sdp', 406, /offers BAR/],
    ['a WHEP offer that only sends', 'play', offer(['m=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0', 'a=sendonly', 'a=rtpmap:96 VP8/90000']), 'application/sdp', 422, /receives no audio or video/],
    ['an offer without DTLS fingerprint', 'play', offer(['m=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000']).replace('a=fingerprint:sha-256 AA:BB:CC\r\n', ''), 'application/sdp', 400, /fingerprint/],
    ['a body over maxSdpSize', 'play', offer(['m=video 9 UDP/TLS/RTP/SAVPF 96', 'a=x'.repeat(70_000)]), 'application/sdp', 413, /body over/],
  ])('refuses %s with a 4xx and a text reason', async (_, kind, body, type, status, reason) => {
    const response = await post(`${server.httpUrl}/webrtc/${kind}/${PATH}`, body, type);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toMatch(reason);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });

  it("answers 201 or a 4xx, never 5xx, to 150 mutations of Chromium's offer; the server keeps serving", async () => {
    const lines = readFileSync(join(__dirname, '../../../libs/webrtc/src/protocol/fixtures/chromium-whep-offer.sdp'), 'utf8').split('\r\n');
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const statuses = new Map<number, number>();
    for (let i = 0; i < 150; i++) {
      const mutated = [...lines];
      for (let edit = 0; edit <= random(3); edit++) {
        const at = random(mutated.length);
        switch (random(4)) {
          case 0:
            mutated.splice(at, 1);
            break;
          case 1:
            mutated.splice(at, 0, mutated[random(mutated.length)]);
            break;
          case 2:
            mutated[at] = mutated[at].replace(/:.*$/, `:${randomBytes(1 + random(12)).toString('latin1').replace(/[\r\n]/g, '')}`);
            break;
          default:
            mutated[at] = mutated[at].slice(0, random(mutated[at].length + 1));
        }
      }
      const response = await post(server.whepUrl(PATH), mutated.join('\r\n'));
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      expect({ status: response.status, text: response.status >= 500 ? await response.text() : '' }).toEqual({ status: expect.any(Number), text: '' });
      if (response.status === 201) await fetch(new URL(response.headers.get('location')!, server.httpUrl), { method: 'DELETE' });
      else await response.text();
    }
    expect([...statuses.keys()].every((code) => code === 201 || (code >= 400 && code < 500))).toBe(true);
    expect(await sessions()).toEqual([]);
    const player = await playWithWerift(server.whepUrl(PATH));
    try {
      await waitFor(() => player.packets.video > 10, 'a player after the mutated offers', 20_000);
    } finally {
      await player.close();
    }
  });

  it('refuses a bad stream path and a WHIP publish to a busy path', async () => {
    const bad = await post(`${server.httpUrl}/webrtc/play/a/..%2F..%2Fb`, offer(['m=video 9 UDP/TLS/RTP/SAVPF 96', 'a=recvonly', 'a=rtpmap:96 VP8/90000']));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/BAD_STREAM_PATH/);
    const undecodable = await post(`${server.httpUrl}/webrtc/play/live/%E0%A4%A`, offer(['m=video 9 UDP/TLS/RTP/SAVPF 96', 'a=recvonly', 'a=rtpmap:96 VP8/90000']));
    expect(undecodable.status).toBe(400);
    const busy = await post(server.whipUrl(PATH), offer(['m=video 9 UDP/TLS/RTP/SAVPF 96', 'a=sendonly', 'a=rtpmap:96 VP8/90000']));
    expect(busy.status).toBe(409);
    expect(await busy.text()).toMatch(/STREAM_BUSY/);
  });

  it('answers a player with no publisher in time with 404 WAIT_TIMEOUT, and starts one whose publisher comes while it waits', async () => {
    const late = await playWithWerift(server.whepUrl('live/none?waitTimeout=1s'));
    expect(late.status).toBe(404);
    expect(late.body).toMatch(/WAIT_TIMEOUT/);
    const waiting = playWithWerift(server.whepUrl('live/later'));
    await waitFor(() => server.registry.get('live/later')?.subscribers.size, 'the player to wait');
    publishTestPattern({ url: server.rtmpUrl('live/later'), fps: 25, gop: 25 });
    const player = await waiting;
    try {
      expect(player.status).toBe(201);
      await waitFor(() => player.packets.video > 20, 'video of the publisher that came later', 20_000);
    } finally {
      await player.close();
    }
    expect((await sessions()).length).toBe(0);
  });

  it('lists sessions in the admin API (signed in) and ends one from there', async () => {
    const player = await playWithWerift(server.whepUrl(PATH));
    try {
      expect(player.status).toBe(201);
      expect((await fetch(`${server.httpUrl}/api/webrtc/sessions`)).status).toBe(401);
      const [session] = await sessions();
      expect(session).toMatchObject({ kind: 'play', streamPath: PATH, state: expect.stringMatching(/connecting|connected/) });
      expect(player.location).toBe(`${server.httpUrl}/webrtc/session/${session.id}`);
      expect((await admin.request('DELETE', `/api/webrtc/sessions/${session.id}`)).status).toBe(200);
      expect((await admin.request('DELETE', `/api/webrtc/sessions/${session.id}`)).status).toBe(404);
      expect(await sessions()).toEqual([]);
    } finally {
      await player.close(false);
    }
  });

  it('answers CORS preflights and names the configured ICE servers in Link headers (RFC 9725)', async () => {
    const preflight = await fetch(server.whepUrl(PATH), { method: 'OPTIONS', headers: { origin: 'http://example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST.*PATCH.*DELETE/);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Content-Type/i);
    expect(preflight.headers.get('accept-post')).toBe('application/sdp');
    const player = await playWithWerift(server.whepUrl(PATH));
    try {
      expect(player.status).toBe(201);
      const session = await fetch(player.location!, { method: 'OPTIONS' });
      expect(session.status).toBe(204);
      const response = await fetch(server.whepUrl(PATH), { method: 'OPTIONS' });
      expect(response.headers.get('link')).toBe(
        '<stun:stun.example.net>; rel="ice-server", <turn:turn.example.net?transport=udp>; rel="ice-server"; username="user"; credential="secret"; credential-type="password"',
      );
    } finally {
      await player.close();
    }
  });

  it('handles the session resource: PATCH trickle candidates (204), wrong ETag (412), wrong type (415), bad fragment (400), unknown session (404), DELETE', async () => {
    const player = await playWithWerift(server.whepUrl(PATH));
    try {
      expect(player.status).toBe(201);
      const patch = (body: string, headers: Record<string, string> = {}, url = player.location!) =>
        fetch(url, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', ...headers }, body });
      const trickle = await patch('a=mid:0\r\na=candidate:1 1 udp 2122260223 127.0.0.1 61764 typ host generation 0\r\na=end-of-candidates\r\n');
      expect(trickle.status).toBe(204);
      expect((await patch('a=mid:0\r\n', { 'if-match': '"nope"' })).status).toBe(412);
      expect((await patch('a=mid:0\r\n', { 'content-type': 'text/plain' })).status).toBe(415);
      const bad = await patch('a=candidate:garbage\r\n');
      expect(bad.status).toBe(400);
      expect(await bad.text()).toMatch(/malformed candidate/);
      expect((await patch('a=mid:0\r\n', {}, `${server.httpUrl}/webrtc/session/0123456789abcdef0123456789abcdef`)).status).toBe(404);
      expect((await fetch(`${server.httpUrl}/webrtc/session/0123456789abcdef0123456789abcdef`, { method: 'DELETE' })).status).toBe(404);
      await waitFor(() => player.packets.video > 20, 'the player to keep playing', 20_000);
      expect((await fetch(player.location!, { method: 'DELETE' })).status).toBe(200);
      await waitFor(async () => (await sessions()).length === 0, 'the session to go');
    } finally {
      await player.close(false);
    }
  });

  it('with ICE over TCP, a port range, a public address and signed plays: the answer has passive TCP candidates, the mapped address beside each host candidate, ports in the range', async () => {
    const low = await freePort();
    const other = await startTestServer({ webrtc: { iceUseTcp: true, icePortRange: `${low}-${low + 60}`, publicAddresses: ['203.0.113.7'], subscribe: { key: 'play-key' } } });
    try {
      publishTestPattern({ url: other.rtmpUrl('live/nat'), fps: 25, gop: 25 });
      await waitFor(() => other.registry.get('live/nat')?.isReady, 'the stream', 20_000);
      const unsigned = await playWithWerift(other.whepUrl('live/nat'));
      expect(unsigned.status).toBe(403);
      expect(unsigned.body).toMatch(/UNAUTHORIZED/);
      const player = await playWithWerift(`${other.whepUrl('live/nat')}?${signedQuery('play-key', 'live/nat', Math.floor(Date.now() / 1000) + 60)}`);
      try {
        expect(player.status).toBe(201);
        // (werift also lists an active TCP candidate, port 9: it connects out, nothing to map.)
        const candidates = [...player.body.matchAll(/a=candidate:\S+ 1 (udp|tcp) \d+ (\S+) (\d+) typ host(?: tcptype (\w+))?/g)]
          .filter((m) => m[4] !== 'active')
          .map((m) => ({ transport: m[1], address: m[2], port: Number(m[3]) }));
        const hosts = candidates.filter((c) => c.address !== '203.0.113.7');
        expect(hosts.some((c) => c.transport === 'tcp')).toBe(true);
        for (const c of hosts) {
          expect(c.port).toBeGreaterThanOrEqual(low);
          expect(c.port).toBeLessThanOrEqual(low + 60);
          expect(candidates).toContainEqual({ transport: c.transport, address: '203.0.113.7', port: c.port });
        }
        await waitFor(() => player.packets.video > 20, 'video', 20_000);
      } finally {
        await player.close();
      }
    } finally {
      await other.close();
    }
  });

  it("answers a player's NACKs from the send history and its PLI from the GOP cache (an RTMP publisher cannot be asked)", async () => {
    const player = await playWithWerift(server.whepUrl(PATH), { lossPercent: 5 });
    try {
      expect(player.status).toBe(201);
      await waitFor(() => player.packets.video > 300, 'video through 5% loss', 30_000);
      const session = async () => (await sessions()).find((s) => s.kind === 'play')!;
      await waitFor(async () => (await session()).counters.nackReceived > 0, 'NACKs from the player', 20_000);
      // A key frame sent in the last keyFrameInterval makes a PLI moot: ask until one is answered.
      const answered = await waitFor(async () => {
        await player.pictureLost();
        const s = await session();
        return s.counters.gopResends > 0 ? s : undefined;
      }, 'a PLI answered from the GOP cache', 20_000, 200);
      expect(answered.counters.pliReceived).toBeGreaterThanOrEqual(1);
      expect(answered.counters.keyFrameRequests).toBe(0);
      const after = player.packets.video;
      await waitFor(() => player.packets.video > after + 100, 'playback after the resent GOP', 20_000);
    } finally {
      await player.close();
    }
  });

  it('restarts ICE by PATCH (Chromium): new ETag, playback goes on', async () => {
    const page = await openPage();
    try {
      await page.evaluate((p) => window.m7s.play(p), PATH);
      await waitFor(async () => (await decoded(page)) > 10, 'playback', 30_000);
      const etag = await page.evaluate(() => window.m7s.etag);
      await page.evaluate(() => window.m7s.restartIce());
      expect(await page.evaluate(() => window.m7s.etag)).not.toBe(etag);
      const before = await decoded(page);
      await waitFor(async () => (await decoded(page)) > before + 50, 'frames after the ICE restart', 30_000);
      expect((await stats(page)).state).toBe('connected');
    } finally {
      await page.evaluate(() => window.m7s.stop());
      await page.close();
    }
  });

  describe('garbage on the ICE port of live sessions', () => {
    let page: Page;
    let player: WeriftPlayer;

    beforeAll(async () => {
      page = await openPage();
      await page.evaluate((p) => window.m7s.play(p), PATH);
      await waitFor(async () => (await decoded(page)) > 10, 'Chromium playback', 30_000);
      player = await playWithWerift(server.whepUrl(PATH));
      await waitFor(() => player.packets.video > 10, 'werift playback', 20_000);
    });

    afterAll(async () => {
      await page?.evaluate(() => window.m7s.stop()).catch(() => undefined);
      await page?.close();
      await player?.close();
    });

    /** Server ICE ports of the sessions (the local side of their selected pairs). */
    async function icePorts(): Promise<number[]> {
      const list = await sessions();
      return list.map((s) => Number(/:(\d+) <->/.exec(s.selectedCandidatePair ?? '')?.[1])).filter((p) => p > 0);
    }

    /** A STUN binding request in the session's name with a made-up password, claiming the controlling role and nominating. */
    async function forgedBindingRequest(serverUfrag: string): Promise<Buffer> {
      const { Message, methods, classes } = await import('werift');
      return new Message(methods.BINDING, classes.REQUEST)
        .setAttribute('USERNAME', `${serverUfrag}:evil`)
        .setAttribute('PRIORITY', 2130706431)
        .setAttribute('ICE-CONTROLLED', BigInt('18446744073709551615'))
        .setAttribute('USE-CANDIDATE', null)
        .addMessageIntegrity(Buffer.from('not-the-session-password'))
        .addFingerprint().bytes;
    }

    it('drops random bytes, a forged STUN binding request, fake DTLS records and fake RTP/RTCP; both sessions keep playing', async () => {
      const ports = await icePorts();
      expect(ports.length).toBeGreaterThanOrEqual(2);
      const ufrag = /a=ice-ufrag:(\S+)/.exec(player.body)![1];
      const garbage: Buffer[] = [
        ...Array.from({ length: 50 }, () => randomBytes(1 + Math.floor(Math.random() * 1200))),
        await forgedBindingRequest(ufrag),
        Buffer.concat([Buffer.from([0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40]), randomBytes(64)]), // DTLS handshake record
        Buffer.from([0x15, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 40]), // DTLS fatal alert
        Buffer.from([0x15, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7, 0, 2, 1, 0]), // DTLS close_notify without encryption
        // Records of every other content type of the DTLS range (werift reads an unknown one as a close).
        ...Array.from({ length: 40 }, (_, i) => Buffer.concat([Buffer.from([24 + i, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 8, 0, 0x10]), randomBytes(16)])),
        Buffer.concat([Buffer.from([0x17, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 0x20]), randomBytes(32)]), // DTLS application data
        Buffer.concat([Buffer.from([0x80, 0x66, 0x12, 0x34, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef]), randomBytes(200)]), // RTP
        Buffer.concat([Buffer.from([0x80, 0xc8, 0, 6, 0xde, 0xad, 0xbe, 0xef]), randomBytes(40)]), // RTCP SR
        Buffer.concat([Buffer.from([0x81, 0xce, 0, 2, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef]), randomBytes(14)]), // RTCP PLI
      ];
      const socket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      const chromiumBefore = await decoded(page);
      const weriftBefore = player.packets.video;
      try {
        for (let round = 0; round < 5; round++) {
          for (const port of ports) for (const datagram of garbage) socket.send(datagram, port, '127.0.0.1');
          await new Promise((r) => setImmediate(r));
        }
      } finally {
        socket.close();
      }
      // The same from the werift player's own (verified) address: werift's DTLS/SRTP layers must drop it.
      const fromPeer = garbage.filter((d) => d[0] >= 20);
      for (const datagram of fromPeer) await player.sendFromPeer(datagram);
      await waitFor(async () => (await decoded(page)) > chromiumBefore + 50, 'Chromium to keep decoding', 30_000);
      await waitFor(() => player.packets.video > weriftBefore + 200, 'werift to keep receiving', 30_000);
      const list = await sessions();
      expect(list.map((s) => s.state)).toEqual(['connected', 'connected']);
      expect(list.reduce((n, s) => n + s.droppedDatagrams, 0)).toBeGreaterThanOrEqual(garbage.length);
      // The server still takes new players.
      const another = await playWithWerift(server.whepUrl(PATH));
      try {
        expect(another.status).toBe(201);
        await waitFor(() => another.packets.video > 10, 'a new player after the garbage', 20_000);
      } finally {
        await another.close();
      }
    });
  });

  it('50 WHEP connect/disconnect cycles (werift and Chromium, DELETE or not) leave no session, player or handle behind', async () => {
    const handles = (): number => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    const page = await openPage();
    const chromiumCycle = async (remove: boolean) => {
      await page.evaluate((p) => window.m7s.play(p), PATH);
      await waitFor(async () => (await decoded(page)) > 0, 'a Chromium cycle to decode', 30_000, 20);
      if (remove) await page.evaluate(() => window.m7s.stop());
      // Without DELETE: the browser closes its peer connection only (DTLS close_notify, then silence).
      else await page.evaluate(() => window.m7s.pc?.close());
    };
    const weriftCycle = async (remove: boolean) => {
      const player = await playWithWerift(server.whepUrl(PATH));
      expect(player.status).toBe(201);
      await waitFor(() => player.packets.video > 0, 'a werift cycle to receive video', 20_000, 10);
      await player.close(remove);
    };
    // One of each first, so lazily made things (a codec's cache, Chromium's page) are in the baseline.
    await weriftCycle(true);
    await chromiumCycle(true);
    await waitFor(async () => (await sessions()).length === 0, 'no session before the cycles');
    const baseline = handles();
    for (let i = 0; i < 50; i++) {
      // Every 5th cycle is Chromium's; every 7th leaves without DELETE (the server notices the silence).
      if (i % 5 === 0) await chromiumCycle(i % 7 !== 0);
      else await weriftCycle(i % 7 !== 0);
    }
    await page.close();
    await waitFor(async () => (await sessions()).length === 0, 'every WebRTC session to be gone', 60_000, 250);
    await waitFor(() => [...(server.registry.get(PATH)?.subscribers ?? [])].every((s) => s.info.protocol !== 'webrtc'), 'no WebRTC player on the stream', 10_000);
    // The players' Opus came from one AAC->Opus transcoder: gone with the last player.
    await waitFor(() => server.registry.get(PATH)?.derivedAudio.size === 0, 'no audio transcoder left', 10_000);
    const after = await waitFor(() => (handles() <= baseline ? handles() : undefined), `the handle count to return to ${baseline}`, 60_000, 250).catch(() => handles());
    expect({ handles: after }).toEqual({ handles: expect.any(Number) });
    expect(after).toBeLessThanOrEqual(baseline);
    expect(server.registry.get(PATH)?.publisher).toBeDefined();
  });
});
