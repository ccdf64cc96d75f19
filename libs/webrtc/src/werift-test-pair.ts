/**
 * For specs of the WHEP send path: a server peer (createPeer, sendonly video + audio) answering a werift
 * player (recvonly H.264 + Opus with NACK, PLI and transport-wide congestion control) over loopback UDP.
 */
import { RTCPeerConnection, RTCRtpCodecParameters, useAbsSendTime, useNACK, usePLI, useSdesMid, useTransportWideCC, useTWCC } from 'werift';
import type { RtpPacket, RTCRtpTransceiver } from 'werift';
import { createPeer, gathered, withoutDefaultStun } from './webrtc-peer';

export interface WeriftTestPair {
  server: RTCPeerConnection;
  player: RTCPeerConnection;
  video: RTCRtpTransceiver;
  audio: RTCRtpTransceiver;
  /** RTP the player's tracks got (after SRTP), in arrival order. */
  received: { video: RtpPacket[]; audio: RtpPacket[] };
  /** Datagrams reaching the player pass here first; return false to drop one. */
  setPlayerFilter(filter: ((data: Buffer) => boolean) | undefined): void;
  close(): Promise<void>;
}

interface IceAgent {
  protocols: { datagramReceived?: (data: Buffer, addr: [string, number]) => void }[];
  stunServer?: unknown;
}

function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const timer = setInterval(() => {
      if (check()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() > deadline) {
        clearInterval(timer);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 10);
  });
}

export async function weriftTestPair(): Promise<WeriftTestPair> {
  const server = createPeer({ useTcp: false, useIpv6: false, hostAddresses: ['127.0.0.1'], iceServers: [] });
  const feedback = [useNACK(), usePLI(), useTWCC()];
  const extensions = () => [useSdesMid(), useAbsSendTime(), useTransportWideCC()];
  const player = new RTCPeerConnection({
    bundlePolicy: 'max-bundle',
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    iceServers: [],
    codecs: {
      video: [new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, payloadType: 102, rtcpFeedback: feedback, parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' })],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111, rtcpFeedback: [useTWCC()] })],
    },
    headerExtensions: { video: extensions(), audio: extensions() },
  });
  player.addTransceiver('video', { direction: 'recvonly' });
  player.addTransceiver('audio', { direction: 'recvonly' });
  const received = { video: [] as RtpPacket[], audio: [] as RtpPacket[] };
  player.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => received[track.kind === 'video' ? 'video' : 'audio'].push(rtp)));
  const agent = player.iceTransports[0].connection as unknown as IceAgent;
  agent.stunServer = undefined;
  let filter: ((data: Buffer) => boolean) | undefined;
  await player.setLocalDescription(await player.createOffer());
  await gathered(player, 5000);
  for (const protocol of agent.protocols) {
    const receive = protocol.datagramReceived?.bind(protocol);
    if (!receive) continue;
    protocol.datagramReceived = (data, addr) => {
      if (!filter || filter(data)) receive(data, addr);
    };
  }
  const video = server.addTransceiver('video', { direction: 'sendonly' });
  const audio = server.addTransceiver('audio', { direction: 'sendonly' });
  await server.setRemoteDescription(player.localDescription!);
  withoutDefaultStun(server);
  await server.setLocalDescription(await server.createAnswer());
  await gathered(server, 5000);
  await player.setRemoteDescription(server.localDescription!);
  await until(() => server.connectionState === 'connected' && player.connectionState === 'connected', 'the pair to connect');
  return {
    server,
    player,
    video,
    audio,
    received,
    setPlayerFilter: (f) => (filter = f),
    close: async () => {
      await Promise.all([server.close(), player.close()]);
    },
  };
}

export { until };
