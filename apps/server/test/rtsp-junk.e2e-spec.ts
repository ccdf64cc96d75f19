import { randomBytes } from 'node:crypto';
import { connect, Socket } from 'node:net';
import fc from 'fast-check';
import { buildAudioSpecificConfig, packetizeH264, RtpStamper } from '@m7s/media';
import { framesOf, killAllTracked, playHttpFlv, probeStreams, publishTestPattern, startTestServer, TestPlayer, TestServer, waitFor } from '@m7s/test-kit';

/** A raw TCP client that collects what the server sends and notices when it closes. */
class RawClient {
  readonly socket: Socket;
  received = '';
  closed = false;
  private readonly opened: Promise<void>;

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.opened = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.socket.on('data', (d: Buffer) => (this.received += d.toString('latin1')));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => (this.closed = true));
  }

  async send(data: Buffer | string): Promise<void> {
    await this.opened;
    if (!this.closed) this.socket.write(data);
  }

  /** Sends a request and waits for the response with that CSeq. */
  async request(method: string, uri: string, cseq: number, headers: Record<string, string> = {}, body = ''): Promise<string> {
    const lines = [`${method} ${uri} RTSP/1.0`, `CSeq: ${cseq}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    await this.send(`${lines.join('\r\n')}\r\n\r\n${body}`);
    return waitFor(() => {
      const at = this.received.indexOf(`CSeq: ${cseq}\r\n`);
      if (at < 0) return undefined;
      const start = this.received.lastIndexOf('RTSP/1.0 ', at);
      return this.received.slice(start, this.received.indexOf('\r\n\r\n', at) + 4);
    }, `response ${cseq} to ${method}`);
  }

  close(): void {
    this.socket.destroy();
  }
}

function interleaved(channel: number, packet: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = 0x24;
  h[1] = channel;
  h.writeUInt16BE(packet.length, 2);
  return Buffer.concat([h, packet]);
}

const SPS = Buffer.from('6742c01e8c8d40a0fd00f0884650', 'hex');
const PPS = Buffer.from('68ce3c80', 'hex');
const ASC = buildAudioSpecificConfig({ objectType: 2, sampleRate: 44100, channels: 1 });
const ANNOUNCE_SDP = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=junk',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  `a=fmtp:96 packetization-mode=1;sprop-parameter-sets=${SPS.toString('base64')},${PPS.toString('base64')}`,
  'a=control:streamid=0',
  'm=audio 0 RTP/AVP 97',
  'a=rtpmap:97 MPEG4-GENERIC/44100/1',
  `a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=${ASC.toString('hex')}`,
  'a=control:streamid=1',
  '',
].join('\r\n');

/** A publishing session made by hand: ANNOUNCE, SETUP (TCP interleaved) both tracks, RECORD. */
async function rawPublisher(server: TestServer, path: string): Promise<RawClient> {
  const c = new RawClient(server.rtspPort);
  const url = server.rtspUrl(path);
  expect(await c.request('ANNOUNCE', url, 1, { 'Content-Type': 'application/sdp' }, ANNOUNCE_SDP)).toMatch(/^RTSP\/1.0 200/);
  const setup = await c.request('SETUP', `${url}/streamid=0`, 2, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record' });
  expect(setup).toMatch(/^RTSP\/1.0 200/);
  const session = /Session: ([^;\r]+)/.exec(setup)![1];
  expect(await c.request('SETUP', `${url}/streamid=1`, 3, { Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3;mode=record', Session: session })).toMatch(/^RTSP\/1.0 200/);
  expect(await c.request('RECORD', url, 4, { Session: session, Range: 'npt=0.000-' })).toMatch(/^RTSP\/1.0 200/);
  return c;
}

/** Valid RTP of a few H.264 frames (an IDR then P frames), FU-A fragmented at a small MTU. */
function h264Packets(frames: number): Buffer[] {
  const stamper = new RtpStamper({ ssrc: 1234, payloadType: 96, sequenceNumber: 100 });
  const out: Buffer[] = [];
  for (let i = 0; i < frames; i++) {
    const slice = Buffer.concat([Buffer.from([i === 0 ? 0x65 : 0x41]), randomBytes(3000)]);
    out.push(...stamper.stamp(packetizeH264(i === 0 ? [SPS, PPS, slice] : [slice], { mtu: 500 }), i * 3600));
  }
  return out;
}

describe('RTSP: malformed and hostile input fails that session alone', () => {
  let server: TestServer;
  let watcher: TestPlayer;

  beforeAll(async () => {
    server = await startTestServer({ rtsp: { maxInterleavedSize: 4096, maxHeaderSize: 4096 } });
    publishTestPattern({ url: server.rtmpUrl('live/main') });
    await waitFor(() => server.registry.get('live/main')?.isReady, 'the main stream', 20_000);
    watcher = playHttpFlv(server.flvUrl('live/main'));
    await waitFor(() => framesOf(watcher).length > 5, 'the watcher playing');
  });

  afterAll(async () => {
    watcher?.close();
    await killAllTracked();
    await server?.close();
  });

  /** The other stream kept flowing and the server still answers RTSP. */
  async function othersUnharmed(): Promise<void> {
    const before = framesOf(watcher).length;
    await waitFor(() => framesOf(watcher).length > before + 10, 'the watcher still receiving frames');
    expect(watcher.ended).toBe(false);
    const probe = new RawClient(server.rtspPort);
    expect(await probe.request('OPTIONS', server.rtspUrl('live/main'), 1)).toMatch(/^RTSP\/1.0 200/);
    probe.close();
  }

  it('answers a malformed request line with 400 and closes', async () => {
    const c = new RawClient(server.rtspPort);
    await c.send('HELLO WORLD\r\n\r\n');
    await waitFor(() => c.closed, 'the connection closed');
    expect(c.received).toMatch(/^RTSP\/1.0 400/);
    await othersUnharmed();
  });

  it('refuses an oversized header block and closes', async () => {
    const c = new RawClient(server.rtspPort);
    await c.send(`OPTIONS ${server.rtspUrl('live/x')} RTSP/1.0\r\nCSeq: 1\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`);
    await waitFor(() => c.closed, 'the connection closed');
    expect(c.received).toMatch(/^RTSP\/1.0 4(13|31)/);
    await othersUnharmed();
  });

  it('answers an unknown method with 501 and a missing CSeq with 400', async () => {
    const c = new RawClient(server.rtspPort);
    expect(await c.request('FROB', server.rtspUrl('live/x'), 7)).toMatch(/^RTSP\/1.0 501/);
    c.close();
    const d = new RawClient(server.rtspPort);
    await d.send(`OPTIONS ${server.rtspUrl('live/x')} RTSP/1.0\r\n\r\n`);
    await waitFor(() => d.received.startsWith('RTSP/1.0 400'), 'a 400 for the missing CSeq');
    d.close();
  });

  it('refuses an ANNOUNCE with garbage SDP (400) or without a supported track (415)', async () => {
    const c = new RawClient(server.rtspPort);
    expect(await c.request('ANNOUNCE', server.rtspUrl('live/bad'), 1, { 'Content-Type': 'application/sdp' }, 'this is not sdp')).toMatch(/^RTSP\/1.0 400/);
    const d = new RawClient(server.rtspPort);
    const theora = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 100\r\na=rtpmap:100 THEORA/90000\r\n';
    expect(await d.request('ANNOUNCE', server.rtspUrl('live/bad'), 1, { 'Content-Type': 'application/sdp' }, theora)).toMatch(/^RTSP\/1.0 415/);
    await othersUnharmed();
  });

  it('a publisher that sends valid RTP is playable; an interleaved frame over the limit ends it alone', async () => {
    const c = await rawPublisher(server, 'live/raw');
    for (const p of h264Packets(30)) await c.send(interleaved(0, p));
    await waitFor(() => server.registry.get('live/raw')?.publisher?.tracks.video?.frames, 'frames from the raw publisher');
    await c.send(interleaved(0, randomBytes(5000)));
    await waitFor(() => c.closed, 'the oversized frame closing the session');
    await waitFor(() => !server.registry.get('live/raw')?.publisher, 'the raw publisher gone');
    await othersUnharmed();
  });

  it('RTP with a bad header ends that publishing session', async () => {
    const c = await rawPublisher(server, 'live/badrtp');
    const bad = Buffer.from(h264Packets(1)[0]);
    bad[0] = 0x40; // RTP version 1
    await c.send(interleaved(0, bad));
    await waitFor(() => c.closed, 'the session closed on a bad RTP header');
    await othersUnharmed();
  });

  it('broken FU-A sequences and mutated packets are dropped, the session and the server live on', async () => {
    const c = await rawPublisher(server, 'live/mutated');
    const valid = h264Packets(40);
    const packets = fc.sample(
      fc.record({ i: fc.nat(valid.length - 1), op: fc.constantFrom('drop-fu-start', 'flip', 'truncate', 'dup'), bit: fc.nat() }),
      { numRuns: 300, seed: 42 },
    ).map(({ i, op, bit }) => {
      const p = Buffer.from(valid[i]);
      if (op === 'flip') p[12 + (bit % (p.length - 12))] ^= 1 << (bit % 8);
      else if (op === 'truncate') return p.subarray(0, 12 + (bit % (p.length - 12)));
      else if (op === 'drop-fu-start') p[13] &= 0x7f; // clear the FU-A start bit
      return p;
    });
    for (const p of packets) await c.send(interleaved(0, p));
    // Whatever the damage, valid media afterwards still comes through.
    for (const p of h264Packets(30)) await c.send(interleaved(0, p));
    await waitFor(() => server.registry.get('live/mutated')?.publisher, 'the mutated session still publishing');
    c.close();
    await othersUnharmed();
  });

  it('random bytes on fresh connections close only those connections', async () => {
    for (let i = 0; i < 20; i++) {
      const c = new RawClient(server.rtspPort);
      await c.send(randomBytes(1 + (i * 997) % 8000));
      c.close();
    }
    await othersUnharmed();
    expect(await probeStreams(server.rtspUrl('live/main'), ['-rtsp_transport', 'tcp'])).toEqual(expect.arrayContaining([expect.objectContaining({ codec_name: 'h264' })]));
  });
});

describe('RTSP authentication (streamAuth.users)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      streamAuth: { users: [{ username: 'cam', password: 'p@ss word', publish: true, play: false }, { username: 'viewer', password: 'secret', publish: false, play: true }] },
    });
  });

  afterAll(async () => {
    await killAllTracked();
    await server?.close();
  });

  it('a publish needs credentials with the publish right; a play those with the play right (Digest, as ffmpeg answers)', async () => {
    const withCreds = (user: string, pass: string, path: string) => server.rtspUrl(path).replace('rtsp://', `rtsp://${user}:${encodeURIComponent(pass)}@`);
    publishTestPattern({ url: withCreds('cam', 'p@ss word', 'live/auth') });
    await waitFor(() => server.registry.get('live/auth')?.isReady, 'the authenticated publish', 20_000);
    await expect(probeStreams(server.rtspUrl('live/auth'), ['-rtsp_transport', 'tcp'])).rejects.toThrow(/401|Unauthorized/);
    await expect(probeStreams(withCreds('viewer', 'wrong', 'live/auth'), ['-rtsp_transport', 'tcp'])).rejects.toThrow(/401|Unauthorized/);
    await expect(probeStreams(withCreds('cam', 'p@ss word', 'live/auth'), ['-rtsp_transport', 'tcp'])).rejects.toThrow(/403|Forbidden/);
    const streams = await probeStreams(withCreds('viewer', 'secret', 'live/auth'), ['-rtsp_transport', 'tcp']);
    expect(streams.find((s) => s.codec_type === 'video')?.codec_name).toBe('h264');
  });

  it('refuses a publish without credentials with 401 and a Digest and a Basic challenge', async () => {
    const c = new RawClient(server.rtspPort);
    const res = await c.request('ANNOUNCE', server.rtspUrl('live/anon'), 1, { 'Content-Type': 'application/sdp' }, ANNOUNCE_SDP);
    expect(res).toMatch(/^RTSP\/1.0 401/);
    expect(res).toMatch(/WWW-Authenticate: Digest realm="m7s", nonce="/);
    expect(res).toMatch(/WWW-Authenticate: Basic realm="m7s"/);
    const basic = Buffer.from('cam:p@ss word').toString('base64');
    expect(await c.request('ANNOUNCE', server.rtspUrl('live/anon'), 2, { 'Content-Type': 'application/sdp', Authorization: `Basic ${basic}` }, ANNOUNCE_SDP)).toMatch(/^RTSP\/1.0 200/);
    c.close();
  });
});
