import { classes, Message, methods, parseMessage, RTCPeerConnection, RTCRtpCodecParameters, TurnProtocol, useAbsSendTime, useSdesMid, useTransportWideCC } from 'werift';
import type { RTCIceServer } from 'werift';
import { ignoreStaleDtlsFlight4 } from './werift-internals';

export interface PeerOptions {
  /** ICE UDP/TCP ports; undefined = the OS picks. */
  portRange?: [number, number];
  useTcp: boolean;
  useIpv6: boolean;
  /** Host addresses offered beside the interfaces' own. */
  hostAddresses: readonly string[];
  /** STUN/TURN servers the server's agent uses itself (empty: host candidates only). */
  iceServers: RTCIceServer[];
}

const video = (mimeType: string) => new RTCRtpCodecParameters({ mimeType, clockRate: 90000 });

/**
 * werift negotiates by MIME type only and answers with the offer's own formats, so the server's list just
 * names every codec it carries; the offer is pruned to the one format chosen per m-line beforehand.
 */
const CODECS = {
  video: [video('video/H264'), video('video/H265'), video('video/VP8'), video('video/VP9'), video('video/AV1')],
  audio: [
    new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 }),
    new RTCRtpCodecParameters({ mimeType: 'audio/PCMA', clockRate: 8000, channels: 1, payloadType: 8 }),
    new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }),
  ],
};

/** A peer connection for one WHIP/WHEP session. */
export function createPeer(o: PeerOptions): RTCPeerConnection {
  ignoreStaleDtlsFlight4();
  if (o.iceServers.length > 0) releasingTurnClients();
  const extensions = () => [useSdesMid(), useAbsSendTime(), useTransportWideCC()];
  return new RTCPeerConnection({
    codecs: CODECS,
    headerExtensions: { video: extensions(), audio: extensions() },
    iceServers: o.iceServers,
    icePortRange: o.portRange,
    iceUseTcp: o.useTcp,
    iceUseIpv6: o.useIpv6,
    iceAdditionalHostAddresses: o.hostAddresses.length ? [...o.hostAddresses] : undefined,
    bundlePolicy: 'max-bundle',
  });
}

/** Resolves when the peer's candidates are all gathered, or after `timeoutMs` with what it has. */
export function gathered(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    const subscription = pc.iceGatheringStateChange.subscribe((state) => {
      if (state === 'complete') done();
    });
    function done(): void {
      clearTimeout(timer);
      subscription.unSubscribe();
      resolve();
    }
  });
}

/** Whether the servers name a STUN server (werift uses the first one; see withoutDefaultStun). */
export function hasStunServer(iceServers: readonly RTCIceServer[]): boolean {
  return iceServers.some((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]).some((url) => /^stuns?:/i.test(url)));
}

/**
 * werift's ICE agent asks stun.l.google.com for a server-reflexive candidate when it is given no STUN server
 * (and waits up to 5 s for it), TURN servers or not: a server uses only the STUN/TURN servers its config
 * names. Call it once the transports exist (after the offer is applied), before gathering.
 */
export function withoutDefaultStun(pc: RTCPeerConnection): void {
  for (const transport of pc.iceTransports) (transport.connection as unknown as { stunServer?: unknown }).stunServer = undefined;
}

/** The parts of werift's TURN client (packages/ice turn/protocol TurnProtocol) used below. */
interface TurnClient {
  server: [string, number];
  integrityKey?: Buffer;
  transport: { closed?: boolean; close(): Promise<void> };
  refresh: (lifetime: number) => void;
  request(request: Message, addr: [string, number], integrityKey?: Buffer, options?: { retransmissions?: number; responseTimeout?: number }): Promise<[Message, unknown]>;
  requestWithRetry(request: Message, addr: [string, number]): Promise<[Message, unknown]>;
  m7sRefreshTimer?: NodeJS.Timeout;
  m7sClosed?: boolean;
}

let turnClientsPatched = false;

/**
 * werift's TURN client (the server's relay candidate, iceServersForServer) refreshes its allocation in a loop
 * sleeping on a timer close() cannot cancel (500 s at the default lifetime: a closed session keeps a timer
 * alive), leaves the allocation at the TURN server until its lifetime ends, and keeps its socket when the
 * allocation fails. Patched once, before the first such client: refreshes run on a timer close() clears,
 * close() deallocates (REFRESH with LIFETIME 0, RFC 8656 section 7), a failed allocation closes its socket.
 */
function releasingTurnClients(): void {
  if (turnClientsPatched) return;
  turnClientsPatched = true;
  const proto = TurnProtocol.prototype as unknown as { connectionMade(this: TurnClient): Promise<void>; close(this: TurnClient): Promise<void> };
  const connectionMade = proto.connectionMade;
  proto.connectionMade = async function (this: TurnClient) {
    this.refresh = (lifetime) => scheduleTurnRefresh(this, lifetime);
    try {
      await connectionMade.call(this);
    } catch (error) {
      this.m7sClosed = true;
      await this.transport.close().catch(() => undefined);
      throw error;
    }
  };
  proto.close = async function (this: TurnClient) {
    if (this.m7sClosed) return;
    this.m7sClosed = true;
    clearTimeout(this.m7sRefreshTimer);
    if (this.integrityKey && !this.transport.closed) {
      const release = new Message(methods.REFRESH, classes.REQUEST).setAttribute('LIFETIME', 0);
      // One short try: from a TURN server that does not answer, the allocation lapses on its own.
      await this.request(release, this.server, undefined, { retransmissions: 1, responseTimeout: 500 }).catch(() => undefined);
    }
    await this.transport.close().catch(() => undefined);
  };
}

/** The next refresh of a TURN allocation: at 5/6 of its lifetime, or soon after a failed one. */
function scheduleTurnRefresh(client: TurnClient, lifetime: number, delaySeconds = (lifetime * 5) / 6): void {
  if (client.m7sClosed) return;
  client.m7sRefreshTimer = setTimeout(() => {
    const request = new Message(methods.REFRESH, classes.REQUEST).setAttribute('LIFETIME', lifetime);
    client.requestWithRetry(request, client.server).then(
      ([response]) => scheduleTurnRefresh(client, Number(response.getAttributeValue('LIFETIME')) || lifetime),
      () => scheduleTurnRefresh(client, lifetime, lifetime / 12),
    );
  }, delaySeconds * 1000);
  client.m7sRefreshTimer.unref();
}

/**
 * Closes a session's peer. A relay candidate still being allocated (a slow TURN server: gathering outlives the
 * answer's wait) would join the closed agent and live on, so one that arrives now is closed at once.
 */
export async function closePeer(pc: RTCPeerConnection): Promise<void> {
  for (const transport of pc.iceTransports) {
    const agent = transport.connection as unknown as { ensureProtocol(protocol: { close?(): Promise<void> }): void };
    agent.ensureProtocol = (protocol) => void protocol.close?.().catch(() => undefined);
  }
  await pc.close();
}

/**
 * Where the peer's sockets look for a free port: werift tries binds from the low end of its range up, so each
 * session is pointed just past the ports the previous one took (set before gathering).
 */
export function setPortRange(pc: RTCPeerConnection, range: [number, number]): void {
  for (const transport of pc.iceTransports) {
    const agent = transport.connection as unknown as { options: { portRange?: [number, number] } };
    agent.options.portRange = range;
  }
}

/** The ports of the peer's host candidates. */
export function hostPorts(pc: RTCPeerConnection): number[] {
  return pc.iceTransports.flatMap((t) => (t.connection as unknown as { localCandidates: { type: string; port: number }[] }).localCandidates.filter((c) => c.type === 'host' && c.port > 9).map((c) => c.port));
}

/** What the ICE guard let through and dropped on a peer's sockets. */
export interface IceGuardStats {
  dropped: number;
}

/** The credentials of werift's ICE agent (packages/ice Connection) the guard checks against. */
export interface IceCredentials {
  localPassword: string;
  /** Passwords of this agent's earlier ICE generations, by ufrag (checks of an ICE restart in flight). */
  userHistory: Record<string, string>;
}

interface IceAgent extends IceCredentials {
  protocols: IceProtocol[];
}

interface IceProtocol {
  /** UDP sockets: every datagram; TCP: every RFC 4571 frame; TURN relay: every datagram from a peer. */
  datagramReceived?: (data: Buffer, addr: [string, number]) => void;
  handleFrame?: (data: Buffer, addr: [string, number]) => void;
  handleStunMessage?: (data: Buffer, addr: [string, number]) => void;
  m7sGuarded?: boolean;
}

const STUN_REQUEST = 0;
const STUN_BINDING = 1;
const MAGIC_COOKIE = 0x2112a442;

function isStun(data: Buffer): boolean {
  return data.length >= 20 && data[0] < 4 && data.readUInt32BE(4) === MAGIC_COOKIE;
}

/** RFC 7983 demultiplexing: 20..63 is DTLS. */
function isDtls(data: Buffer): boolean {
  return data[0] >= 20 && data[0] <= 63;
}

const DTLS_HEADER = 13;
const DTLS_CHANGE_CIPHER_SPEC = 20;
const DTLS_ALERT = 21;
const DTLS_HANDSHAKE = 22;
const DTLS_APPLICATION_DATA = 23;

/**
 * DTLS records werift can take: it reads any content type it does not know, and a plaintext alert (which
 * needs no key), as the peer closing, and closes the transport. So only handshake, change-cipher-spec,
 * application data and encrypted alerts (epoch > 0, longer than a bare level + description) pass.
 */
function dtlsRecordsUsable(data: Buffer): boolean {
  let at = 0;
  while (at < data.length) {
    if (data.length - at < DTLS_HEADER) return false;
    const type = data[at];
    const epoch = data.readUInt16BE(at + 3);
    const length = data.readUInt16BE(at + 11);
    if (type === DTLS_ALERT ? epoch === 0 || length <= 2 : type !== DTLS_CHANGE_CIPHER_SPEC && type !== DTLS_HANDSHAKE && type !== DTLS_APPLICATION_DATA) return false;
    at += DTLS_HEADER + length;
  }
  return true;
}

/**
 * What a peer's ICE sockets take: a STUN binding request only with this session's credentials (a
 * MESSAGE-INTEGRITY made with its ICE password); its source address is then verified, and only verified
 * addresses may send DTLS (records werift survives), RTP and RTCP. STUN responses pass (werift matches them to
 * its own transactions and checks their integrity).
 */
export class IceGuard {
  private readonly verified = new Set<string>();

  constructor(private readonly credentials: IceCredentials) {}

  accepts(data: Buffer, addr: readonly [string, number]): boolean {
    const key = `${addr[0]}|${addr[1]}`;
    if (!isStun(data)) return this.verified.has(key) && (!isDtls(data) || dtlsRecordsUsable(data));
    const type = data.readUInt16BE(0);
    const messageClass = ((type >> 4) & 1) | ((type >> 7) & 2);
    if (messageClass !== STUN_REQUEST) return true;
    if ((type & 0x3eef) !== STUN_BINDING) return false;
    const passwords = new Set([this.credentials.localPassword, ...Object.values(this.credentials.userHistory ?? {})]);
    for (const password of passwords) {
      if (password && parseMessage(data, Buffer.from(password, 'utf8'))) {
        this.verified.add(key);
        return true;
      }
    }
    return false;
  }
}

/**
 * Hardens the sockets werift opened for a peer with an IceGuard: werift answers any binding request and
 * would learn a peer-reflexive candidate, or switch ICE roles, on a forged one; and it hands any other
 * datagram to DTLS/SRTP. Garbage from elsewhere now costs a lookup. Call it after gathering (the sockets
 * exist) and before the answer goes out; again after an ICE restart (new sockets are guarded, old ones kept).
 */
export function guardIce(pc: RTCPeerConnection, stats: IceGuardStats): void {
  for (const transport of pc.iceTransports) {
    const agent = transport.connection as unknown as IceAgent;
    const guard = new IceGuard(agent);
    for (const protocol of agent.protocols) {
      if (protocol.m7sGuarded) continue;
      const method = protocol.datagramReceived ? 'datagramReceived' : protocol.handleFrame ? 'handleFrame' : protocol.handleStunMessage ? 'handleStunMessage' : undefined;
      if (!method) continue;
      const original = protocol[method]!.bind(protocol);
      protocol[method] = (data: Buffer, addr: [string, number]) => {
        try {
          if (guard.accepts(data, addr)) return original(data, addr);
        } catch {
          // a throw here must not reach the socket's event handler
        }
        stats.dropped++;
      };
      protocol.m7sGuarded = true;
    }
  }
}

/** The selected candidate pair, as `udp 127.0.0.1:9000 <-> 127.0.0.1:53211`, or undefined before one is. */
export function selectedPair(pc: RTCPeerConnection): string | undefined {
  const pair = pc.iceTransports[0]?.getSelectedCandidatePair();
  if (!pair) return undefined;
  const fields = (c: { candidate?: string }) => (c.candidate ?? '').replace(/^candidate:/, '').split(' ');
  const local = fields(pair.local);
  const remote = fields(pair.remote);
  return `${local[2]?.toLowerCase()} ${local[4]}:${local[5]} <-> ${remote[4]}:${remote[5]}`;
}

/** Bytes and packets the peer's DTLS transports sent and received (SRTP/SRTCP, DTLS). */
export function transportCounters(pc: RTCPeerConnection): { bytesSent: number; bytesReceived: number; packetsSent: number; packetsReceived: number } {
  const out = { bytesSent: 0, bytesReceived: 0, packetsSent: 0, packetsReceived: 0 };
  for (const t of new Set(pc.dtlsTransports)) {
    out.bytesSent += t.bytesSent;
    out.bytesReceived += t.bytesReceived;
    out.packetsSent += t.packetsSent;
    out.packetsReceived += t.packetsReceived;
  }
  return out;
}
