import { Logger } from '@nestjs/common';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import type { Socket } from 'node:net';
import { ClientInfo, Publisher, StreamAction, StreamAuth, StreamError, StreamRegistry, Subscriber, TrackSet } from '@m7s/core';
import { isMediaError, parseSdp, RtpTrackFormat, RtpTrackReceiver, rtpFormatOfSdpMedia, sdpAttribute, TrackConfig } from '@m7s/media';
import type { RtspConfig } from './rtsp.config';
import { RtspConnection } from './rtsp-connection';
import { RtpIngestTrack, RtpSessionClock } from './rtp-ingest';
import { RtpPlayTrack, RtspPlaySink } from './rtsp-play-sink';
import { describeTracks, sessionSdp } from './rtsp-sdp';
import { waitForTracks } from './stream-tracks';
import type { UdpPortAllocator, UdpPortPair } from './rtsp-udp';
import type { MulticastGroups } from './rtsp-multicast';
import {
  basicChallenge,
  checkNonce,
  createNonce,
  digestChallenge,
  formatSession,
  formatTransport,
  parseAuthorization,
  parseCSeq,
  parseTransportHeader,
  RtspHeaders,
  RtspProtocolError,
  RtspRequest,
  RtspTransport,
  streamPathOf,
  verifyDigest,
} from './protocol';

const PUBLIC_METHODS = 'OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, RECORD, TEARDOWN, GET_PARAMETER, SET_PARAMETER';
/** Digest nonces stay valid this long (a stale one gets a fresh challenge, not a refusal). */
const NONCE_MAX_AGE_MS = 5 * 60_000;
/** RTCP receiver reports go to publishers this often (RFC 3550 6.2 suggests ~5 s). */
const RECEIVER_REPORT_INTERVAL_MS = 5000;
/** Requests queued behind one still being answered (DESCRIBE may wait for a publisher). */
const MAX_PENDING_REQUESTS = 16;

export interface RtspServerContext {
  registry: StreamRegistry;
  auth: StreamAuth;
  config: RtspConfig;
  udpPorts: UdpPortAllocator;
  multicast: MulticastGroups;
  nonceSecret: Buffer;
  serverName: string;
}

/** A track set up in this session: its control name and where its RTP goes (or comes from). */
interface SetupTrack {
  control: string;
  index: number;
  transport: RtspTransport;
  udp?: UdpPortPair;
  /** Where UDP packets for the client go. */
  clientIp?: string;
  clientPorts?: [number, number];
}

class RtspError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string | string[]> = {},
  ) {
    super(message);
  }
}

/**
 * One client connection of the RTSP server and the session it opens on it: publish (ANNOUNCE, SETUP,
 * RECORD) or play (DESCRIBE, SETUP, PLAY, PAUSE), RTP over the connection (interleaved) or over UDP.
 * Any protocol or media error ends this session only, with a logged reason.
 */
export class RtspServerSession {
  private readonly logger = new Logger('RtspSession');
  readonly conn: RtspConnection;
  readonly id = randomBytes(8).toString('hex');
  private mode: 'idle' | 'play' | 'record' = 'idle';
  private streamPath: string | undefined;
  private query = new URLSearchParams();
  private username: string | undefined;
  private authorizedActions = new Set<StreamAction>();
  private readonly setups = new Map<string, SetupTrack>();
  /** ANNOUNCE: the tracks the publisher described. */
  private announced: { format: RtpTrackFormat; control: string }[] = [];
  /** DESCRIBE: what was offered to the player. */
  private described: { config: TrackConfig; control: string }[] = [];
  private publisher: Publisher | undefined;
  private ingest = new Map<number, RtpIngestTrack>();
  private subscriber: Subscriber | undefined;
  private playSink: RtspPlaySink | undefined;
  /** Multicast groups this player joined (left when it stops playing). */
  private multicastJoined: number[] = [];
  private lastActivity = Date.now();
  private lastReceiverReport = Date.now();
  private readonly timer: NodeJS.Timeout;
  private readonly pending: RtspRequest[] = [];
  private busy = false;
  private closedReason: string | undefined;

  constructor(
    socket: Socket,
    private readonly ctx: RtspServerContext,
    private readonly protocol: 'rtsp' | 'rtsps',
    private readonly onClosed: (session: RtspServerSession) => void,
  ) {
    const { config } = ctx;
    this.conn = new RtspConnection(socket, { maxHeaderBytes: config.maxHeaderSize, maxBodyBytes: config.maxBodySize, maxInterleavedBytes: config.maxInterleavedSize });
    this.conn.onRequest = (req) => this.enqueue(req);
    this.conn.onInterleaved = (channel, data) => this.interleaved(channel, data);
    this.conn.onResponse = () => undefined;
    this.conn.onClose = (reason) => this.release(reason);
    this.timer = setInterval(() => this.checkTimeout(), Math.min(5000, Math.max(200, config.sessionTimeout / 4)));
    this.timer.unref();
  }

  close(reason: string, error?: unknown): void {
    this.conn.close(reason, error);
  }

  // ---- requests ----

  private enqueue(req: RtspRequest): void {
    this.lastActivity = Date.now();
    if (this.pending.length >= MAX_PENDING_REQUESTS) return this.close('protocol error', new Error('too many pipelined requests'));
    this.pending.push(req);
    if (!this.busy) void this.drain();
  }

  private async drain(): Promise<void> {
    this.busy = true;
    while (this.pending.length > 0 && !this.conn.closed) {
      const req = this.pending.shift()!;
      await this.answer(req);
    }
    this.busy = false;
  }

  private async answer(req: RtspRequest): Promise<void> {
    let cseq: string | undefined;
    const headers = new RtspHeaders();
    try {
      cseq = String(parseCSeq(req.headers.get('cseq') ?? ''));
      headers.set('CSeq', cseq);
      headers.set('Server', this.ctx.serverName);
      const reply = await this.dispatch(req, headers);
      if (this.conn.closed) return;
      this.conn.sendResponse({ statusCode: reply?.status ?? 200, headers, body: reply?.body });
      reply?.after?.();
    } catch (error) {
      if (this.conn.closed) return;
      const e = this.toRtspError(error);
      if (cseq) headers.set('CSeq', cseq);
      for (const [name, value] of Object.entries(e.headers)) for (const v of [value].flat()) headers.append(name, v);
      this.conn.sendResponse({ statusCode: e.status, headers });
      if (e.status >= 500 || e.status === 400) this.logger.warn({ msg: 'rtsp request failed', method: req.method, uri: req.uri, status: e.status, reason: e.message, remoteAddress: this.conn.remoteAddress });
      // A refused publish or play, or a request that breaks the protocol, ends the connection.
      if (e.status !== 401 && e.status !== 454 && e.status !== 455 && e.status !== 461) this.close(`refused: ${e.status} ${e.message}`);
    }
  }

  private toRtspError(error: unknown): RtspError {
    if (error instanceof RtspError) return error;
    if (error instanceof RtspProtocolError) return new RtspError(error.status, error.message);
    if (isMediaError(error)) return new RtspError(400, error.message);
    if (error instanceof StreamError) {
      const status = { STREAM_BUSY: 453, STREAM_NOT_FOUND: 404, WAIT_TIMEOUT: 404, BAD_STREAM_PATH: 400, BAD_QUERY: 400, UNAUTHORIZED: 403, SHUTDOWN: 503 }[error.code as string] ?? 500;
      return new RtspError(status, `${error.code}: ${error.message}`);
    }
    this.logger.error({ msg: 'rtsp request error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    return new RtspError(500, 'internal error');
  }

  private async dispatch(req: RtspRequest, headers: RtspHeaders): Promise<{ status?: number; body?: Buffer; after?: () => void } | undefined> {
    switch (req.method) {
      case 'OPTIONS':
        headers.set('Public', PUBLIC_METHODS);
        return undefined;
      case 'DESCRIBE':
        return this.describe(req, headers);
      case 'ANNOUNCE':
        return this.announce(req);
      case 'SETUP':
        return this.setup(req, headers);
      case 'PLAY':
        return this.play(req, headers);
      case 'RECORD':
        return this.record(req, headers);
      case 'PAUSE':
        this.checkSession(req, headers);
        if (this.mode === 'play') this.stopPlaying('paused');
        return undefined;
      case 'TEARDOWN':
        return { after: () => this.close('teardown') };
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        if (this.setups.size > 0 || req.headers.has('session')) this.checkSession(req, headers);
        return undefined;
      default:
        throw new RtspError(501, `method ${req.method} not implemented`, { Public: PUBLIC_METHODS });
    }
  }

  /** The request's stream path and query; all requests of a session must name the same stream. */
  private target(req: RtspRequest): { streamPath: string; query: URLSearchParams } {
    let url: URL;
    try {
      url = new URL(req.uri);
    } catch {
      throw new RtspError(400, `bad request URI ${req.uri}`);
    }
    return { streamPath: streamPathOf(req.uri), query: url.searchParams };
  }

  private async describe(req: RtspRequest, headers: RtspHeaders): Promise<{ body: Buffer }> {
    const { streamPath, query } = this.target(req);
    await this.authorize(req, 'play', streamPath, query);
    const tracks = await this.waitForTracks(streamPath, query);
    this.streamPath = streamPath;
    this.query = query;
    this.described = describeTracks(tracks);
    const base = req.uri.split('?')[0].replace(/\/$/, '') + '/';
    const sdp = sessionSdp(this.described, this.conn.localIp, streamPath);
    headers.set('Content-Base', base);
    headers.set('Content-Type', 'application/sdp');
    return { body: Buffer.from(sdp) };
  }

  private waitForTracks(streamPath: string, query: URLSearchParams): Promise<TrackSet> {
    return waitForTracks(this.ctx.registry, streamPath, this.clientInfo(query), (cancel) => this.conn.socket.once('close', cancel));
  }

  private async announce(req: RtspRequest): Promise<undefined> {
    if (this.mode !== 'idle' || this.setups.size > 0) throw new RtspError(455, 'ANNOUNCE after SETUP');
    const { streamPath, query } = this.target(req);
    await this.authorize(req, 'publish', streamPath, query);
    const type = (req.headers.get('content-type') ?? '').toLowerCase();
    if (!type.startsWith('application/sdp')) throw new RtspError(415, `ANNOUNCE needs an application/sdp body, not '${type}'`);
    const sdp = parseSdp(req.body);
    const announced: { format: RtpTrackFormat; control: string }[] = [];
    sdp.media.forEach((media, i) => {
      const format = rtpFormatOfSdpMedia(media);
      if (!format) return;
      new RtpTrackReceiver(format); // refuses (MediaError → 400) a config= or sprop the depacketizer cannot use
      const control = controlName(sdpAttribute(media.attributes, 'control'), i);
      announced.push({ format, control });
    });
    if (announced.length === 0) throw new RtspError(415, 'the SDP has no track in a supported format (H.264, H.265, AAC, Opus, G.711)');
    this.streamPath = streamPath;
    this.query = query;
    this.announced = announced;
    return undefined;
  }

  private async setup(req: RtspRequest, headers: RtspHeaders): Promise<undefined> {
    if (this.mode !== 'idle') throw new RtspError(455, 'SETUP while playing or recording');
    const session = req.headers.get('session');
    if (session !== undefined && session.split(';')[0].trim() !== this.id) throw new RtspError(454, 'session not found');
    const path = new URL(req.uri).pathname.replace(/^\/+/, '');
    const recording = this.announced.length > 0;
    const controls = recording ? this.announced.map((t) => t.control) : this.described.map((t) => t.control);
    if (!recording && this.described.length === 0) {
      // SETUP without DESCRIBE (some clients cache the SDP): describe now.
      const { streamPath, query } = this.target({ ...req, uri: req.uri.replace(/\/[^/]*$/, '') });
      await this.authorize(req, 'play', streamPath, query);
      this.streamPath = streamPath;
      this.query = query;
      this.described = describeTracks(await this.waitForTracks(streamPath, query));
      controls.push(...this.described.map((t) => t.control));
    }
    const control = controls.find((c) => path === `${this.streamPath}/${c}` || path.endsWith(`/${c}`)) ?? (controls.length === 1 && path === this.streamPath ? controls[0] : undefined);
    if (control === undefined) throw new RtspError(404, `no track ${path} in this session`);
    const index = controls.indexOf(control);
    const offered = parseTransportHeader(req.headers.get('transport') ?? '');
    const transport = await this.chooseTransport(offered, index, recording);
    this.setups.set(control, transport);
    headers.set('Transport', formatTransport(transport.transport));
    headers.set('Session', formatSession(this.id, Math.round(this.ctx.config.sessionTimeout / 1000)));
    return undefined;
  }

  private async chooseTransport(offered: RtspTransport[], index: number, recording: boolean): Promise<SetupTrack> {
    const allowed = new Set(this.ctx.config.transports);
    const control = recording ? this.announced[index].control : this.described[index].control;
    for (const t of offered) {
      if (t.lowerTransport === 'TCP' && allowed.has('tcp')) {
        const channels = t.interleaved ?? [index * 2, index * 2 + 1];
        const used = [...this.setups.values()].some((s) => s.transport.interleaved?.[0] === channels[0]);
        if (used) continue;
        return { control, index, transport: { ...t, interleaved: channels, params: {} } };
      }
      if (t.lowerTransport === 'UDP' && !t.multicast && allowed.has('udp') && this.ctx.config.udp.enable && t.clientPort) {
        const udp = await this.ctx.udpPorts.allocate();
        const setup: SetupTrack = { control, index, udp, clientIp: this.conn.remoteIp, clientPorts: t.clientPort, transport: { ...t, serverPort: [udp.rtpPort, udp.rtcpPort], params: {} } };
        this.listenUdp(setup);
        return setup;
      }
      if (t.lowerTransport === 'UDP' && t.multicast && !recording && allowed.has('multicast') && this.ctx.config.multicast.enable) {
        const group = this.ctx.multicast.groupFor(this.streamPath!, index);
        return {
          control,
          index,
          transport: { protocol: 'RTP/AVP', lowerTransport: 'UDP', multicast: true, destination: group.address, port: [group.port, group.port + 1], ttl: this.ctx.config.multicast.ttl, params: {} },
        };
      }
    }
    throw new RtspError(461, `none of the transports offered is available (server allows ${[...allowed].join(', ')})`);
  }

  private async play(req: RtspRequest, headers: RtspHeaders): Promise<{ after: () => void }> {
    this.checkSession(req, headers);
    if (this.announced.length > 0) throw new RtspError(455, 'PLAY in a publishing session');
    if (this.setups.size === 0) throw new RtspError(455, 'PLAY before SETUP');
    const streamPath = this.streamPath!;
    await this.authorize(req, 'play', streamPath, this.query);
    if (this.mode === 'play') return { after: () => undefined };
    const tracks: RtpPlayTrack[] = [];
    for (const setup of [...this.setups.values()].sort((a, b) => a.index - b.index)) {
      const described = this.described[setup.index];
      const track = new RtpPlayTrack(described.config, setup.control, this.ctx.config.mtu);
      if (setup.transport.multicast) {
        this.ctx.multicast.join(streamPath, setup.index, described.config, this.ctx.config.mtu);
        track.multicast = true;
        this.multicastJoined.push(setup.index);
      }
      else if (setup.udp) track.udp = { socket: setup.udp.rtp, rtcp: setup.udp.rtcp, ip: setup.clientIp!, ports: setup.clientPorts! };
      else track.channel = setup.transport.interleaved![0];
      tracks.push(track);
    }
    const base = req.uri.split('?')[0].replace(/\/$/, '');
    headers.set('Range', 'npt=0.000-');
    // Packets are numbered per stream, shared by all players: the first one a player gets is not known yet,
    // so RTP-Info names the tracks only (seq and rtptime are optional, RFC 2326 12.33).
    headers.set('RTP-Info', tracks.map((t) => `url=${base}/${t.control}`).join(','));
    this.mode = 'play';
    // RTP may only follow the PLAY response: subscribe after it is written.
    return {
      after: () => {
        this.playSink = new RtspPlaySink(this.conn, tracks, (error) => this.close(`player ended: ${error?.code ?? 'publisher left'}`));
        try {
          this.subscriber = this.ctx.registry.subscribe(streamPath, this.clientInfo(this.query), this.playSink);
        } catch (error) {
          this.close('play refused', error);
        }
      },
    };
  }

  private stopPlaying(reason: string): void {
    this.mode = 'idle';
    for (const index of this.multicastJoined) this.ctx.multicast.leave(this.streamPath!, index);
    this.multicastJoined = [];
    if (this.subscriber) this.ctx.registry.unsubscribe(this.subscriber, reason);
    this.subscriber = undefined;
    this.playSink?.detach();
    this.playSink = undefined;
  }

  private async record(req: RtspRequest, headers: RtspHeaders): Promise<undefined> {
    this.checkSession(req, headers);
    if (this.announced.length === 0) throw new RtspError(455, 'RECORD without ANNOUNCE');
    if (this.setups.size === 0) throw new RtspError(455, 'RECORD before SETUP');
    if (this.mode === 'record') return undefined;
    const streamPath = this.streamPath!;
    await this.authorize(req, 'publish', streamPath, this.query);
    const publisher = this.ctx.registry.publish(streamPath, this.clientInfo(this.query));
    publisher.onStop = (error) => this.close(`publisher stopped: ${error.code}`);
    publisher.expectVideo = this.announced.some((t) => t.format.kind === 'video' && this.setups.has(t.control));
    this.publisher = publisher;
    const clock = new RtpSessionClock(Date.now());
    for (const setup of this.setups.values()) {
      const { format } = this.announced[setup.index];
      const track = new RtpIngestTrack(format, publisher, clock, { reorderDelayMs: setup.udp ? this.ctx.config.reorderDelay : 0 });
      this.ingest.set(setup.index, track);
    }
    this.mode = 'record';
    return undefined;
  }

  private checkSession(req: RtspRequest, headers: RtspHeaders): void {
    const session = req.headers.get('session')?.split(';')[0].trim();
    if (session !== this.id) throw new RtspError(454, 'session not found');
    headers.set('Session', formatSession(this.id, Math.round(this.ctx.config.sessionTimeout / 1000)));
  }

  // ---- authentication and authorization ----

  private async authorize(req: RtspRequest, action: StreamAction, streamPath: string, query: URLSearchParams): Promise<void> {
    if (this.authorizedActions.has(action) && this.streamPath === streamPath) return;
    if (this.ctx.auth.credentialsRequired(action)) this.authenticate(req, action);
    await this.ctx.auth.authorize({ action, protocol: this.protocol, streamPath, query, remoteAddress: this.conn.remoteAddress, username: this.username });
    this.authorizedActions.add(action);
  }

  /** RTSP Basic/Digest against streamAuth.users; a missing or wrong answer gets a 401 with fresh challenges. */
  private authenticate(req: RtspRequest, action: StreamAction): void {
    const { config, nonceSecret } = this.ctx;
    const challenges = (stale = false): Record<string, string[]> => ({
      'WWW-Authenticate': config.authMethods.map((m) => (m === 'digest' ? digestChallenge(config.realm, createNonce(nonceSecret, Date.now()), stale) : basicChallenge(config.realm))),
    });
    const auth = parseAuthorization(req.headers.get('authorization') ?? '');
    if (!auth) throw new RtspError(401, 'authentication required', challenges());
    const credential = this.ctx.auth.findCredential(auth.username);
    let ok = false;
    if (auth.scheme === 'basic' && config.authMethods.includes('basic')) {
      ok = credential !== undefined && safeEqual(credential.password, auth.password);
    } else if (auth.scheme === 'digest' && config.authMethods.includes('digest')) {
      const nonce = checkNonce(nonceSecret, auth.nonce, Date.now(), NONCE_MAX_AGE_MS);
      if (nonce === 'stale') throw new RtspError(401, 'stale nonce', challenges(true));
      ok = nonce === 'ok' && credential !== undefined && verifyDigest(auth, req.method, credential.password, config.realm);
    }
    if (!ok) {
      this.logger.warn({ msg: 'rtsp authentication failed', username: auth.username, scheme: auth.scheme, remoteAddress: this.conn.remoteAddress });
      throw new RtspError(401, 'wrong credentials', challenges());
    }
    if (!credential![action]) throw new RtspError(403, `${auth.username} may not ${action}`);
    this.username = auth.username;
  }

  private clientInfo(query: URLSearchParams): ClientInfo {
    return { protocol: this.protocol, remoteAddress: this.conn.remoteAddress, query };
  }

  // ---- media ----

  private interleaved(channel: number, data: Buffer): void {
    this.lastActivity = Date.now();
    const setup = [...this.setups.values()].find((s) => s.transport.interleaved && (s.transport.interleaved[0] === channel || s.transport.interleaved[1] === channel));
    if (!setup) return; // RTCP or frames for channels not set up are ignored
    if (channel === setup.transport.interleaved![1]) return this.rtcp(setup, data);
    this.rtp(setup, data);
  }

  private rtp(setup: SetupTrack, data: Buffer): void {
    if (this.mode !== 'record') return;
    const track = this.ingest.get(setup.index);
    if (!track) return;
    try {
      track.receive(data, Date.now());
    } catch (error) {
      if (!isMediaError(error)) throw error;
      this.close('bad RTP from the publisher', error);
    }
  }

  private rtcp(setup: SetupTrack, data: Buffer): void {
    if (this.mode === 'record') this.ingest.get(setup.index)?.receiveRtcp(data, Date.now());
    else this.playSink?.receiveRtcp(setup.index, data);
  }

  private listenUdp(setup: SetupTrack): void {
    const udp = setup.udp!;
    const fromClient = (rinfo: RemoteInfo) => rinfo.address === setup.clientIp || rinfo.address === `::ffff:${setup.clientIp}`;
    udp.rtp.on('message', (msg, rinfo) => {
      if (!fromClient(rinfo)) return;
      this.lastActivity = Date.now();
      this.rtp(setup, msg);
    });
    udp.rtcp.on('message', (msg, rinfo) => {
      if (!fromClient(rinfo)) return;
      this.lastActivity = Date.now();
      this.rtcp(setup, msg);
    });
    udp.rtp.on('error', (error) => this.close('udp error', error));
    udp.rtcp.on('error', (error) => this.close('udp error', error));
  }

  private checkTimeout(): void {
    const now = Date.now();
    for (const t of this.ingest.values()) t.poll(now);
    if (this.mode === 'record' && now - this.lastReceiverReport >= RECEIVER_REPORT_INTERVAL_MS) {
      this.lastReceiverReport = now;
      this.sendReceiverReports(now);
    }
    this.playSink?.tick(now);
    // A TCP player's liveness is its connection; everyone else must show activity.
    const tcpPlayer = this.mode === 'play' && [...this.setups.values()].every((s) => s.transport.lowerTransport === 'TCP');
    if (tcpPlayer) return;
    if (now - this.lastActivity > this.ctx.config.sessionTimeout) this.close('session timeout', new Error(`no request or media for ${this.ctx.config.sessionTimeout} ms`));
  }

  /** RTCP receiver reports to the publisher, on the RTCP channel or port of each track. */
  private sendReceiverReports(now: number): void {
    for (const setup of this.setups.values()) {
      const report = this.ingest.get(setup.index)?.receiverReport(now);
      if (!report) continue;
      if (setup.udp && setup.clientPorts) setup.udp.rtcp.send(report, setup.clientPorts[1], setup.clientIp);
      else if (setup.transport.interleaved) this.conn.sendInterleaved(setup.transport.interleaved[1], report);
    }
  }

  private release(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    clearInterval(this.timer);
    this.stopPlaying(reason);
    for (const t of this.ingest.values()) t.close();
    this.publisher?.close(reason);
    for (const s of this.setups.values()) s.udp?.close();
    this.setups.clear();
    this.onClosed(this);
  }
}

/** The control name a track gets: the publisher's when it gave one (relative), else trackID=N. */
function controlName(control: string | undefined, index: number): string {
  if (!control || control === '*') return `trackID=${index}`;
  const absolute = /^rtsps?:\/\//i.test(control);
  if (!absolute) return control.replace(/^\/+/, '');
  return control.replace(/\/+$/, '').split('/').pop() ?? `trackID=${index}`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
