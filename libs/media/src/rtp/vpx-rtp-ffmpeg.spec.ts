// eslint-disable-next-line no-restricted-imports -- a spec, not pure code: it talks RTP with ffmpeg over UDP
import { createSocket, Socket } from 'node:dgram';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '@m7s/test-kit/fixtures';
import { run, spawnTracked, stopTracked } from '@m7s/test-kit/process';
import { ffmpegPath } from '@m7s/test-kit/tools';
import { freePort, waitFor } from '@m7s/test-kit/wait';
import { ivfFrames } from '../../test-fixtures/fixtures';
import { isVp8KeyFrame } from '../codecs/vp8';
import { isVp9KeyFrame } from '../codecs/vp9';
import { parseRtpPacket, RtpStamper } from './rtp-packet';
import { RtpReceivedFrame, RtpTrackReceiver, rtpPayloadsOfFrame } from './rtp-track';
import type { VideoConfig } from '../media.types';

/**
 * Interop with a real sender and receiver: ffmpeg 5.1 sends VP8 and VP9 over RTP (and writes the same
 * encoded frames to IVF through its tee muxer), and reads back what we packetize through an SDP file.
 */

const FRAMES = 25;
const GOP = 10;

interface Case {
  codec: 'vp8' | 'vp9';
  encoding: string;
  encoder: string[];
  isKey: (frame: Buffer) => boolean;
}

const CASES: Case[] = [
  { codec: 'vp8', encoding: 'VP8', encoder: ['-c:v', 'libvpx'], isKey: isVp8KeyFrame },
  { codec: 'vp9', encoding: 'VP9', encoder: ['-c:v', 'libvpx-vp9', '-strict', 'experimental'], isKey: isVp9KeyFrame },
];

function bindUdp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

/** Whether another process holds the UDP port (ffmpeg opened its RTP input). */
async function udpPortTaken(port: number): Promise<boolean> {
  try {
    const s = await bindUdp(port);
    await new Promise<void>((r) => s.close(() => r()));
    return false;
  } catch {
    return true;
  }
}

async function ffmpeg(args: string[]): Promise<string> {
  const r = await run(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', ...args], 20_000);
  if (r.code !== 0) throw new Error(`ffmpeg failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** The per-frame CRCs of a framecrc listing (decoded pictures, in order). */
function frameCrcs(listing: string): string[] {
  return listing
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').at(-1)!.trim());
}

describe.each(CASES)('$encoding over RTP with ffmpeg', (c) => {
  let dir: string;
  let ivf: Buffer[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('m7s-vpx-rtp-');
  });
  afterAll(() => removeTempDir(dir));

  it('depacketizes what ffmpeg sends into the frames it wrote to IVF, with key frames and the size', async () => {
    const port = await freePort();
    const socket = await bindUdp(port);
    const receiver = new RtpTrackReceiver({ kind: 'video', payloadType: 96, encoding: c.encoding, clockRate: 90000, fmtp: {} });
    const frames: RtpReceivedFrame[] = [];
    socket.on('message', (msg) => frames.push(...receiver.push(parseRtpPacket(msg))));
    try {
      const file = join(dir, 'sent.ivf');
      await ffmpeg([
        '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=50', '-frames:v', String(FRAMES),
        ...c.encoder, '-deadline', 'realtime', '-cpu-used', '8', '-g', String(GOP), '-auto-alt-ref', '0',
        '-map', '0:v', '-f', 'tee', `[f=rtp:payload_type=96]rtp://127.0.0.1:${port}|[f=ivf]${file}`,
      ]);
      ivf = ivfFrames(await readFile(file));
      // loopback datagrams are all queued by the time ffmpeg exits (a few dozen: the socket buffer holds them)
      await waitFor(() => frames.length >= ivf.length, `${ivf.length} frames`, 5000);
    } finally {
      socket.close();
    }
    expect(ivf.length).toBe(FRAMES);
    expect(frames.map((f) => Buffer.concat(f.data).toString('base64'))).toEqual(ivf.map((f) => f.toString('base64')));
    const keys = frames.flatMap((f, i) => (f.keyFrame ? [i] : []));
    expect(keys).toEqual([0, 10, 20]);
    expect(ivf.flatMap((f, i) => (c.isKey(f) ? [i] : []))).toEqual(keys);
    expect(receiver.config).toMatchObject({ kind: 'video', codec: c.codec, width: 320, height: 240 });
    expect(receiver.keyFrameNeeded).toBe(false);
  });

  it('ffmpeg decodes what we packetize, picture for picture', async () => {
    expect(ivf.length).toBe(FRAMES); // from the test above
    const file = join(dir, 'sent.ivf');
    const want = frameCrcs(await ffmpeg(['-i', file, '-f', 'framecrc', '-']));
    expect(want.length).toBe(FRAMES);

    const port = await freePort();
    const sdp = join(dir, 'in.sdp');
    await writeFile(sdp, ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=video ${port} RTP/AVP 96`, `a=rtpmap:96 ${c.encoding}/90000`, ''].join('\r\n'));
    const reader = spawnTracked(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-protocol_whitelist', 'file,udp,rtp', '-threads', '1', '-i', sdp, '-frames:v', String(FRAMES), '-f', 'framecrc', '-']);
    const sender = createSocket('udp4');
    try {
      await waitFor(() => udpPortTaken(port), 'ffmpeg to open its RTP port', 10_000);
      const config: VideoConfig = { kind: 'video', codec: c.codec, record: Buffer.alloc(0), parameterSets: [], width: 320, height: 240 };
      const stamper = new RtpStamper({ ssrc: 0x5eed, payloadType: 96, sequenceNumber: 65530 });
      for (const [i, frame] of ivf.entries()) {
        for (const packet of stamper.stamp(rtpPayloadsOfFrame(config, [frame], c.isKey(frame), 500, i), i * 1800)) {
          await new Promise<void>((resolve, reject) => sender.send(packet, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
        }
      }
      await waitFor(() => reader.child.exitCode !== null, 'ffmpeg to decode every frame', 10_000);
    } finally {
      sender.close();
      await stopTracked(reader);
    }
    expect(reader.stderr()).toBe('');
    expect(frameCrcs(reader.stdout())).toEqual(want);
  });
});
