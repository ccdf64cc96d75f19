import { parseMessage, RTCPeerConnection, RTCRtpCodecParameters, useAbsSendTime, useSdesMid, useTransportWideCC } from 'werift';
import type { RTCIceServer } from 'werift';

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

/**
 * werift's ICE agent asks stun.l.google.com for a server-reflexive candidate when it is given no STUN server
 * (and waits up to 5 s for it): a server uses only the STUN/TURN servers its config names. Call it once the
 * transports exist (after the offer is applied), before gathering.
 */
export function withoutDefaultStun(pc: RTCPeerConnection): void {
  for (const transport of pc.iceTransports) (transport.connection as unknown as { stunServer?: unknown }).stunServer = undefined;
}

/** What the ICE guard let through and dropped on a peer's sockets. */
export interface IceGuardStats {
  dropped: number;
}

/** The parts of werift's ICE agent (packages/ice Connection) the guard reads; not in its public typings. */
interface IceAgent {
  localPassword: string;
  userHistory: Record<string, string>;
  protocols: IceProtocol[];
}

interface IceProtocol {
  /** UDP sockets: every datagram; TCP: every RFC 4571 frame. */
  datagramReceived?: (data: Buffer, addr: [string, number]) => void;
  handleFrame?: (data: Buffer, addr: [string, number]) => void;
  m7sGuarded?: boolean;
}

const STUN_REQUEST = 0;
const STUN_BINDING = 1;
const MAGIC_COOKIE = 0x2112a442;

function isStun(data: Buffer): boolean {
  return data.length >= 20 && data[0] < 4 && data.readUInt32BE(4) === MAGIC_COOKIE;
}

/**
 * Hardens the sockets werift opened for a peer: a STUN request must carry our credentials (a MESSAGE-INTEGRITY
 * made with this session's ICE password), else it is dropped before werift sees it (werift answers any
 * binding request and would learn a peer-reflexive candidate or switch roles on a forged one); DTLS, RTP and
 * RTCP are taken only from an address that sent such a request. Garbage from elsewhere costs a lookup.
 * Call it after gathering (the sockets exist) and before the answer goes out.
 */
export function guardIce(pc: RTCPeerConnection, stats: IceGuardStats): void {
  const verified = new Set<string>();
  for (const transport of pc.iceTransports) {
    const agent = transport.connection as unknown as IceAgent;
    for (const protocol of agent.protocols) {
      if (protocol.m7sGuarded) continue;
      const method = protocol.datagramReceived ? 'datagramReceived' : protocol.handleFrame ? 'handleFrame' : undefined;
      if (!method) continue;
      const original = protocol[method]!.bind(protocol);
      protocol[method] = (data: Buffer, addr: [string, number]) => {
        try {
          if (accepted(agent, verified, data, addr)) return original(data, addr);
        } catch {
          // a throw here must not reach the socket's event handler
        }
        stats.dropped++;
      };
      protocol.m7sGuarded = true;
    }
  }
}

function accepted(agent: IceAgent, verified: Set<string>, data: Buffer, addr: [string, number]): boolean {
  const key = `${addr[0]}|${addr[1]}`;
  if (!isStun(data)) return verified.has(key);
  const type = data.readUInt16BE(0);
  const messageClass = ((type >> 4) & 1) | ((type >> 7) & 2);
  // Responses are matched to werift's own transactions, which check their integrity.
  if (messageClass !== STUN_REQUEST) return true;
  if ((type & 0x3eef) !== STUN_BINDING) return false;
  const passwords = new Set([agent.localPassword, ...Object.values(agent.userHistory ?? {})]);
  for (const password of passwords) {
    if (password && parseMessage(data, Buffer.from(password, 'utf8'))) {
      verified.add(key);
      return true;
    }
  }
  return false;
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
