import { createServer, Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';

const ROOT = join(__dirname, '../..');

export interface ChromiumOptions {
  /**
   * WebRTC tests: a fake camera and microphone granted without a prompt (getUserMedia), and loopback
   * candidates (the test server's ICE runs on 127.0.0.1).
   */
  webrtc?: boolean;
}

const WEBRTC_ARGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection'];

/** Debian's Chromium, headless, driven by playwright-core (a test tool's own browser download does not work here). */
export async function launchChromium(options: ChromiumOptions = {}): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
      ...(options.webrtc ? WEBRTC_ARGS : []),
    ],
  });
}

const PLAYER_PAGE = `<!doctype html>
<html><body>
<video id="v" muted autoplay playsinline></video>
<script src="/mpegts.js"></script>
<script>
  const params = new URLSearchParams(location.search);
  window.playerErrors = [];
  const player = mpegts.createPlayer({ type: 'flv', isLive: true, url: params.get('url') }, { enableStashBuffer: false });
  player.on(mpegts.Events.ERROR, (type, detail, info) => window.playerErrors.push(type + ' ' + detail + ' ' + JSON.stringify(info)));
  player.attachMediaElement(document.getElementById('v'));
  player.load();
  player.play();
</script>
</body></html>`;

/**
 * A page server for browser tests: `/player.html?url=...` plays an HTTP-FLV or WS-FLV url with mpegts.js
 * (the npm package, served as is).
 */
export async function startPageServer(): Promise<{ url: (page: string) => string; close: () => Promise<void> }> {
  const mpegts = readFileSync(join(ROOT, 'node_modules/mpegts.js/dist/mpegts.js'));
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/mpegts.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(mpegts);
    } else if (path === '/player.html') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(PLAYER_PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: (page) => `http://127.0.0.1:${port}/${page}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** What the WebRTC page's m7s.stats() returns (libs/webrtc/page/index.html). */
export interface WebrtcPageStats {
  state: string;
  mode: 'play' | 'publish' | null;
  error: string | null;
  video: WebrtcPageRtpStats | null;
  audio: WebrtcPageRtpStats | null;
  /** The selected candidate pair (getStats: the nominated, succeeded candidate-pair and its candidates). */
  pair: { rtt?: number; availableOutgoingBitrate?: number; local: WebrtcPageCandidate | null; remote: WebrtcPageCandidate | null } | null;
}

export interface WebrtcPageCandidate {
  type: string;
  protocol: string;
  address: string;
  port: number;
}

export interface WebrtcPageRtpStats {
  codec: string | null;
  packets: number;
  bytes: number;
  framesDecoded?: number;
  keyFramesDecoded?: number;
  framesEncoded?: number;
  keyFramesEncoded?: number;
  frameWidth?: number;
  frameHeight?: number;
  nackCount?: number;
  pliCount?: number;
  packetsLost?: number;
}

/** The client the WebRTC page puts at window.m7s (the tests drive the served page through it). */
export interface WebrtcPageClient {
  /** relay: iceTransportPolicy 'relay' (only TURN-relayed candidates). */
  play(path: string, query?: string, options?: { relay?: boolean }): Promise<void>;
  publish(path: string, query?: string, options?: { codec?: string; relay?: boolean }): Promise<void>;
  restartIce(): Promise<void>;
  stop(): Promise<void>;
  stats(): Promise<WebrtcPageStats>;
  etag: string | null;
  /** The page's RTCPeerConnection (typed loosely: the kit builds without the DOM library). */
  pc: { close(): void } | null;
}

declare global {
  interface Window {
    m7s: WebrtcPageClient;
  }
}

/** A WHEP player made of a werift peer connection in the test process (many cheap clients, raw RTP counts). */
export interface WeriftPlayer {
  /** HTTP status of the POST (201 when the session was made). */
  status: number;
  /** The answer (201) or the refusal's text. */
  body: string;
  /** The session resource (Location), absolute. */
  location: string | undefined;
  /** RTP packets received so far, per kind, and those the simulated loss dropped. */
  packets: { video: number; audio: number; dropped: number };
  /** The peer connection (werift's RTCPeerConnection). */
  pc: import('werift').RTCPeerConnection;
  connected(): boolean;
  /** Sends a picture loss indication (RTCP PLI) for the server's video. */
  pictureLost(): Promise<void>;
  /** Sends a datagram from the player's own ICE socket to the server's (the address the server verified). */
  sendFromPeer(data: Buffer): Promise<void>;
  /** DELETE the session (unless `deleteSession` is false) and close the peer connection. */
  close(deleteSession?: boolean): Promise<void>;
}

export interface WeriftPlayerOptions {
  /** Drop this share (0..100) of the SRTP/SRTCP datagrams received, so the player NACKs. */
  lossPercent?: number;
}

/** The parts of werift's ICE agent the helpers use (not in its typings). */
interface WeriftIceAgent {
  protocols: { datagramReceived?: (data: Buffer, addr: [string, number]) => void }[];
  nominated?: { protocol: { sendData(data: Buffer, addr: [string, number]): Promise<void> }; remoteAddr: [string, number] };
  stunServer?: unknown;
}

/** Plays a WHEP url with werift: recvonly H.264 (packetization mode 1) + Opus, host candidates on 127.0.0.1. */
export async function playWithWerift(url: string, options: WeriftPlayerOptions = {}): Promise<WeriftPlayer> {
  const { RTCPeerConnection, RTCRtpCodecParameters } = await import('werift');
  const h264 = (profileLevelId: string, payloadType: number) =>
    new RTCRtpCodecParameters({
      mimeType: 'video/H264',
      clockRate: 90000,
      payloadType,
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb' }],
      parameters: `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${profileLevelId}`,
    });
  const pc = new RTCPeerConnection({
    // One transport from the start: werift leaves the sockets of a transport dropped by BUNDLE open after close().
    bundlePolicy: 'max-bundle',
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    iceServers: [],
    codecs: {
      video: [h264('42e01f', 102), h264('4d001f', 104), h264('640c1f', 106)],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })],
    },
  });
  const packets = { video: 0, audio: 0, dropped: 0 };
  const video = pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const agent = () => pc.iceTransports[0].connection as unknown as WeriftIceAgent;
  // No STUN: werift would ask stun.l.google.com otherwise (and wait for it when UDP out is blocked).
  agent().stunServer = undefined;
  pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => (track.kind === 'video' ? packets.video++ : packets.audio++)));
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const subscription = pc.iceGatheringStateChange.subscribe((state) => {
        if (state !== 'complete') return;
        subscription.unSubscribe();
        resolve();
      });
    });
  }
  const loss = (options.lossPercent ?? 0) / 100;
  if (loss > 0) {
    for (const protocol of agent().protocols) {
      const receive = protocol.datagramReceived?.bind(protocol);
      if (!receive) continue;
      protocol.datagramReceived = (data, addr) => {
        // RTP/RTCP (first byte 128..191) is dropped at random; STUN and DTLS always pass.
        if (data[0] >= 128 && data[0] <= 191 && Math.random() < loss) {
          packets.dropped++;
          return;
        }
        receive(data, addr);
      };
    }
  }
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
  const body = await response.text();
  const header = response.headers.get('location');
  const location = header ? new URL(header, url).href : undefined;
  if (response.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
  else await pc.close();
  return {
    status: response.status,
    body,
    location,
    packets,
    pc,
    connected: () => pc.connectionState === 'connected',
    pictureLost: async () => {
      const ssrc = video.receiver.track.ssrc ?? Number(/a=ssrc:(\d+)/.exec(body)?.[1]);
      await video.receiver.sendRtcpPLI(ssrc);
    },
    sendFromPeer: async (data) => {
      const pair = agent().nominated;
      if (!pair) throw new Error('no selected candidate pair');
      await pair.protocol.sendData(data, pair.remoteAddr);
    },
    close: async (deleteSession = true) => {
      if (deleteSession && location) await fetch(location, { method: 'DELETE' }).catch(() => undefined);
      await pc.close();
    },
  };
}
