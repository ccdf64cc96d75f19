/// <reference lib="dom" />
import type { Browser, Page, Route } from 'playwright-core';
import { ApiClient, killAllTracked, launchChromium, loginApi, publishTestPattern, startTestServer, startTurnServer, TestServer, TurnServer, waitFor, WebrtcPageStats } from '@m7s/test-kit';

const PATH = 'live/ice';

interface SessionInfo {
  kind: string;
  state: string;
  streamPath: string;
  selectedCandidatePair: string | null;
}

/** A selected pair of the sessions API: `udp 127.0.0.1:9000 <-> 127.0.0.2:53211`. */
interface Pair {
  transport: string;
  local: string;
  remote: string;
}

function pairOf(text: string | null): Pair {
  const m = /^(\w+) (\S+) <-> (\S+)$/.exec(text ?? '');
  if (!m) throw new Error(`not a candidate pair: ${text}`);
  return { transport: m[1], local: m[2], remote: m[3] };
}

interface Candidate {
  transport: string;
  address: string;
  port: number;
  type: string;
  tcptype?: string;
  /** rport: a relay candidate's address as the TURN server saw its client. */
  relatedPort?: number;
}

const CANDIDATE = /^a=candidate:\S+ \d+ (\w+) \d+ (\S+) (\d+) typ (\w+)(?: raddr \S+ rport (\d+))?(?:.*? tcptype (\w+))?/;

/** The candidates of an SDP, each once (with BUNDLE they are repeated in every m-section). */
function candidatesOf(sdp: string): Candidate[] {
  const lines = new Set(sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')));
  return [...lines].map((line) => {
    const m = CANDIDATE.exec(line);
    if (!m) throw new Error(`unexpected candidate line: ${line}`);
    return {
      transport: m[1].toLowerCase(),
      address: m[2],
      port: Number(m[3]),
      type: m[4],
      ...(m[5] ? { relatedPort: Number(m[5]) } : {}),
      ...(m[6] ? { tcptype: m[6] } : {}),
    };
  });
}

/** The SDP without the candidate lines `drop` picks. */
function withoutCandidates(sdp: string, drop: (c: Candidate) => boolean): string {
  return sdp
    .split('\r\n')
    .filter((line) => !(line.startsWith('a=candidate:') && drop(candidatesOf(line)[0])))
    .join('\r\n');
}

const endpoint = (c: { address: string; port: number }) => `${c.address}:${c.port}`;

/** A page's WHIP/WHEP POST as it went over the wire (before the test rewrote the answer for the page). */
interface Exchange {
  offer: string;
  answer: string;
  links: string[];
}

/**
 * Rewrites the page's offer and the server's answer on their way (playwright routes the page's fetch): the
 * candidates removed never reach the other side, so the connection has to use those left.
 */
async function rewriteSdp(page: Page, kind: 'play' | 'push', edit: { offer?: (sdp: string) => string; answer?: (sdp: string) => string }): Promise<Exchange[]> {
  const seen: Exchange[] = [];
  await page.route(`**/webrtc/${kind}/**`, async (route: Route) => {
    const request = route.request();
    if (request.method() !== 'POST') return route.continue();
    const offer = edit.offer ? edit.offer(request.postData() ?? '') : (request.postData() ?? '');
    const response = await route.fetch({ postData: offer });
    const answer = await response.text();
    const links = response
      .headersArray()
      .filter((h) => h.name.toLowerCase() === 'link')
      .flatMap((h) => h.value.split('\n'));
    seen.push({ offer, answer, links });
    await route.fulfill({ response, body: response.status() === 201 && edit.answer ? edit.answer(answer) : answer });
  });
  return seen;
}

describe('WebRTC ICE paths in headless Chromium: ICE over TCP, TURN for clients, TURN for the server', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium({ webrtc: true });
  });

  afterAll(async () => {
    await browser?.close();
    await killAllTracked();
  });

  async function openPage(server: TestServer): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${server.httpUrl}/webrtc/`);
    await page.waitForFunction(() => typeof window.m7s === 'object');
    return page;
  }

  const stats = (page: Page) => page.evaluate(() => window.m7s.stats());
  /** The page's client with its options ({ relay }: iceTransportPolicy 'relay'), which the kit's typing leaves out. */
  const play = (page: Page, options: { relay?: boolean } = {}) => page.evaluate(([p, o]) => window.m7s.play(p, '', o), [PATH, options] as const);

  async function sessions(admin: ApiClient): Promise<SessionInfo[]> {
    return ((await admin.get('/api/webrtc/sessions')).body as { list: SessionInfo[] }).list;
  }

  async function startWithStream(webrtc: Record<string, unknown>): Promise<{ server: TestServer; admin: ApiClient }> {
    const server = await startTestServer({ webrtc });
    publishTestPattern({ url: server.rtmpUrl(PATH), fps: 25, gop: 25, size: '320x240' });
    await waitFor(() => server.registry.get(PATH)?.isReady, 'the RTMP stream', 20_000);
    return { server, admin: await loginApi(server) };
  }

  /** Waits for frames to decode and audio to arrive; returns the server's selected pair and the page's. */
  async function playing(page: Page, admin: ApiClient): Promise<{ pair: Pair; page: NonNullable<WebrtcPageStats['pair']> }> {
    await waitFor(async () => {
      const s = await stats(page);
      return (s.video?.framesDecoded ?? 0) > 25 && (s.audio?.packets ?? 0) > 10;
    }, 'frames decoded and audio packets', 30_000);
    const session = await waitFor(async () => (await sessions(admin)).find((s) => s.kind === 'play' && s.state === 'connected'), 'a connected play session');
    const pagePair = await waitFor(async () => (await stats(page)).pair, "the page's selected pair");
    return { pair: pairOf(session.selectedCandidatePair), page: pagePair };
  }

  async function stop(page: Page | undefined, admin: ApiClient | undefined): Promise<void> {
    await page?.evaluate(() => window.m7s.stop()).catch(() => undefined);
    await page?.close();
    if (admin) await waitFor(async () => (await sessions(admin)).length === 0, 'the sessions to go');
  }

  describe('ICE over TCP (iceUseTcp): with no UDP candidate on either side, Chromium connects to the passive TCP candidate', () => {
    let server: TestServer;
    let admin: ApiClient;
    let page: Page | undefined;
    const udp = (c: Candidate) => c.transport === 'udp';

    beforeAll(async () => {
      ({ server, admin } = await startWithStream({ iceUseTcp: true }));
    });

    afterAll(async () => {
      await stop(page, admin);
      await server?.close();
    });

    it('Chromium plays the RTMP stream over WHEP on a TCP pair; the API shows it', async () => {
      page = await openPage(server);
      const seen = await rewriteSdp(page, 'play', { offer: (sdp) => withoutCandidates(sdp, udp), answer: (sdp) => withoutCandidates(sdp, udp) });
      await play(page);
      const { pair, page: pagePair } = await playing(page, admin);
      const passive = candidatesOf(seen[0].answer).filter((c) => c.transport === 'tcp' && c.tcptype === 'passive');
      expect(passive.length).toBeGreaterThan(0);
      expect(candidatesOf(seen[0].offer).every((c) => c.transport === 'tcp')).toBe(true);
      expect(pair.transport).toBe('tcp');
      // The server's end is its listening (passive) socket, which Chromium connected to.
      expect(passive.map(endpoint)).toContain(pair.local);
      expect(pagePair.local?.protocol).toBe('tcp');
      expect(pagePair.remote).toMatchObject({ protocol: 'tcp', port: Number(pair.local.split(':')[1]) });
      await stop(page, admin);
      page = undefined;
    });

    it('Chromium publishes its camera over WHIP on a TCP pair', async () => {
      const path = 'live/ice-whip';
      page = await openPage(server);
      await rewriteSdp(page, 'push', { offer: (sdp) => withoutCandidates(sdp, udp), answer: (sdp) => withoutCandidates(sdp, udp) });
      await page.evaluate((p) => window.m7s.publish(p, '', { codec: 'h264' }), path);
      await waitFor(() => server.registry.get(path)?.isReady, 'the WHIP stream to have a key frame', 30_000);
      await waitFor(() => (server.registry.get(path)?.publisher?.tracks.video?.frames ?? 0) > 25, 'video frames from the browser', 30_000);
      const push = (await sessions(admin)).find((s) => s.kind === 'push' && s.streamPath === path);
      expect(push?.state).toBe('connected');
      expect(pairOf(push!.selectedCandidatePair).transport).toBe('tcp');
      expect((await stats(page)).pair?.local?.protocol).toBe('tcp');
    });
  });

  describe('TURN for clients (webrtc.iceServers): coturn on 127.0.0.1, Chromium with iceTransportPolicy relay', () => {
    let turn: TurnServer;
    let server: TestServer;
    let admin: ApiClient;
    let page: Page | undefined;

    beforeAll(async () => {
      turn = await startTurnServer();
      ({ server, admin } = await startWithStream({ iceServers: [{ urls: [turn.url('udp')], username: turn.username, credential: turn.credential }] }));
    });

    afterAll(async () => {
      await stop(page, admin);
      await server?.close();
      await turn?.close();
    });

    it("the page's CONFIG carries the TURN server and its credentials", async () => {
      page = await openPage(server);
      expect(await page.evaluate('CONFIG')).toEqual({ iceServers: [{ urls: [turn.url('udp')], username: turn.username, credential: turn.credential }] });
    });

    it("Chromium plays through coturn's relay: its only candidates are relayed, and the server's peer is coturn's relayed address", async () => {
      page ??= await openPage(server);
      const seen = await rewriteSdp(page, 'play', {});
      await play(page, { relay: true });
      const { pair, page: pagePair } = await playing(page, admin);
      expect(seen[0].links).toContain(`<${turn.url('udp')}>; rel="ice-server"; username="${turn.username}"; credential="${turn.credential}"; credential-type="password"`);
      const offered = candidatesOf(seen[0].offer);
      expect(offered.length).toBeGreaterThan(0);
      for (const c of offered) expect(c).toMatchObject({ type: 'relay', address: turn.relayAddress });
      expect(pagePair.local).toMatchObject({ type: 'relay', address: turn.relayAddress });
      // coturn's relay address is not one of Chromium's (127.0.0.1 and the interfaces'): the server talks to coturn.
      expect(pair.transport).toBe('udp');
      expect(offered.map(endpoint)).toContain(pair.remote);
      expect(turn.log()).toContain(`Local relay addr: ${pair.remote}`);
      expect(turn.log()).toContain(`realm <${turn.realm}> user <${turn.username}>: incoming packet ALLOCATE processed, success`);
    });
  });

  describe('TURN for the server (iceServersForServer): its relay candidate is the only way in', () => {
    let turn: TurnServer;
    let server: TestServer;
    let admin: ApiClient;
    let page: Page | undefined;

    beforeAll(async () => {
      turn = await startTurnServer();
      ({ server, admin } = await startWithStream({ iceServers: [{ urls: [turn.url('udp')], username: turn.username, credential: turn.credential }], iceServersForServer: true }));
    });

    afterAll(async () => {
      await stop(page, admin);
      await server?.close();
      await turn?.close();
    });

    it("the answer has a relay candidate from coturn; Chromium, given only that one, plays through it; closing releases the allocation", async () => {
      page = await openPage(server);
      // Chromium relays too (iceTransportPolicy relay): a check from a host socket of the server to a host
      // address of Chromium would otherwise make a direct pair. Only relay <-> relay is left.
      const seen = await rewriteSdp(page, 'play', { answer: (sdp) => withoutCandidates(sdp, (c) => c.type !== 'relay') });
      await play(page, { relay: true });
      const { pair, page: pagePair } = await playing(page, admin);
      const relayed = candidatesOf(seen[0].answer).filter((c) => c.type === 'relay');
      expect(relayed).toEqual([expect.objectContaining({ transport: 'udp', address: turn.relayAddress })]);
      const relay = relayed[0];
      // The server sends from its relayed address (its TURN client's allocation), to Chromium's.
      expect(pair.local).toBe(endpoint(relay));
      expect(pagePair.local).toMatchObject({ type: 'relay', address: turn.relayAddress });
      expect(pagePair.remote).toMatchObject({ address: turn.relayAddress, port: relay.port });
      // Ending the session deallocates at coturn (REFRESH with lifetime 0) instead of leaving the allocation
      // (and werift's refresh timer) to run out: coturn names the server's TURN client by its address (rport).
      await stop(page, admin);
      page = undefined;
      const closed = await waitFor(() => new RegExp(`session (\\d+): closed .* remote 127\\.0\\.0\\.1:${relay.relatedPort},`).exec(turn.log()), "coturn to delete the server's allocation");
      expect(turn.log()).toContain(`session ${closed[1]}: refreshed, realm=<${turn.realm}>, username=<${turn.username}>, lifetime=0`);
    });
  });
});
