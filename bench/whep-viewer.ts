/**
 * A forked process holding WHEP viewers (werift peer connections offering H.264 and Opus, NACK, PLI and the
 * RTP header extensions Chromium offers) for the WebRTC part of the bench, so their CPU is not the server's.
 * Commands and replies over IPC: `connect` (N viewers of one URL, in batches), `stats` (packets and bytes
 * received per kind, viewers receiving video now), `close`.
 */
import { RTCPeerConnection, RTCRtpCodecParameters, useAbsSendTime, useSdesMid, useTransportWideCC } from 'werift';

export type WhepViewerCommand = { type: 'connect'; url: string; count: number; batch: number } | { type: 'stats' } | { type: 'close' };

export interface WhepViewerStats {
  type: 'stats';
  viewers: number;
  /** viewers that got a video packet in the last 2 s */
  receivingVideo: number;
  /** viewers that got an audio packet in the last 2 s */
  receivingAudio: number;
  failed: number;
  videoPackets: number;
  audioPackets: number;
  bytes: number;
  /** ms from POST to the first video packet, per viewer that got one */
  firstVideoMs: number[];
  errors: string[];
}

interface Viewer {
  pc: RTCPeerConnection;
  startedAt: number;
  firstVideoAt?: number;
  lastVideoAt: number;
  lastAudioAt: number;
  failed: boolean;
}

const viewers: Viewer[] = [];
const errors: string[] = [];
let videoPackets = 0;
let audioPackets = 0;
let bytes = 0;

const H264 = (profileLevelId: string, payloadType: number): RTCRtpCodecParameters =>
  new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: 90000,
    payloadType,
    rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb' }],
    parameters: `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${profileLevelId}`,
  });

async function connectViewer(url: string): Promise<void> {
  const pc = new RTCPeerConnection({
    iceAdditionalHostAddresses: ['127.0.0.1'],
    // One transport for both tracks (otherwise werift leaks the sockets BUNDLE drops).
    bundlePolicy: 'max-bundle',
    codecs: {
      video: [H264('640c1f', 102), H264('4d001f', 104), H264('42e01f', 106)],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })],
    },
    // The RTP header extensions Chromium offers: the server writes them in every packet. No transport-cc
    // feedback though: werift's is malformed (werift 0.24 cannot parse its own), the server would time its parse errors.
    headerExtensions: { video: [useSdesMid(), useAbsSendTime(), useTransportWideCC()], audio: [useSdesMid(), useAbsSendTime(), useTransportWideCC()] },
  });
  const viewer: Viewer = { pc, startedAt: Date.now(), lastVideoAt: 0, lastAudioAt: 0, failed: false };
  viewers.push(viewer);
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  // werift queries Google's STUN server by default; there is no internet here and gathering would wait for it.
  (pc.iceTransports[0].connection as unknown as { stunServer: unknown }).stunServer = undefined;
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => {
      const now = Date.now();
      bytes += rtp.payload.length;
      if (track.kind === 'video') {
        videoPackets++;
        viewer.lastVideoAt = now;
        viewer.firstVideoAt ??= now;
      } else {
        audioPackets++;
        viewer.lastAudioAt = now;
      }
    });
  });
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await waitGathered(pc);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
    if (res.status !== 201) throw new Error(`WHEP POST ${res.status}: ${(await res.text()).slice(0, 200)}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  } catch (error) {
    viewer.failed = true;
    if (errors.length < 10) errors.push(error instanceof Error ? error.message : String(error));
  }
}

function waitGathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const sub = pc.iceGatheringStateChange.subscribe((state) => {
      if (state !== 'complete') return;
      sub.unSubscribe();
      resolve();
    });
  });
}

function stats(): WhepViewerStats {
  const now = Date.now();
  return {
    type: 'stats',
    viewers: viewers.length,
    receivingVideo: viewers.filter((v) => now - v.lastVideoAt < 2000).length,
    receivingAudio: viewers.filter((v) => now - v.lastAudioAt < 2000).length,
    failed: viewers.filter((v) => v.failed).length,
    videoPackets,
    audioPackets,
    bytes,
    firstVideoMs: viewers.flatMap((v) => (v.firstVideoAt ? [v.firstVideoAt - v.startedAt] : [])),
    errors,
  };
}

process.on('message', (cmd: WhepViewerCommand) => {
  void (async () => {
    if (cmd.type === 'connect') {
      for (let i = 0; i < cmd.count; i += cmd.batch) {
        await Promise.all(Array.from({ length: Math.min(cmd.batch, cmd.count - i) }, () => connectViewer(cmd.url)));
      }
      process.send!({ type: 'connected' });
    } else if (cmd.type === 'stats') {
      process.send!(stats());
    } else {
      await Promise.all(viewers.map((v) => v.pc.close().catch(() => undefined)));
      process.send!({ type: 'closed' });
      process.exit(0);
    }
  })();
});
