import { execFile } from 'node:child_process';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FlvTagReader } from '@m7s/media';
import { MessageType, RtmpClient } from '@m7s/rtmp';
import { nowUs, PROBE_NAL_SIZE, writeProbeNal } from './probe';

const execFileAsync = promisify(execFile);

export interface MediaTag {
  kind: 'video' | 'audio';
  /** ms from the start of the file */
  ts: number;
  body: Buffer;
  key: boolean;
}

export interface BenchMedia {
  videoConfig: Buffer;
  audioConfig: Buffer | undefined;
  /** coded frames in decode order, audio and video interleaved by timestamp */
  tags: MediaTag[];
  /** one loop of the file, ms: the next loop's timestamps are shifted by this */
  loopMs: number;
  nalLengthSize: number;
  bitrateKbps: number;
  width: number;
  height: number;
  fps: number;
}

export interface MediaSpec {
  seconds: number;
  width: number;
  height: number;
  fps: number;
  gop: number;
  videoKbps: number;
}

export const DEFAULT_MEDIA: MediaSpec = { seconds: 10, width: 1280, height: 720, fps: 25, gop: 50, videoKbps: 2000 };

function ffmpegBinary(): string {
  if (process.env.FFMPEG) return process.env.FFMPEG;
  if (existsSync('/usr/bin/ffmpeg')) return '/usr/bin/ffmpeg';
  return 'ffmpeg';
}

/** Encodes the test clip once (cached in `dir` by its parameters): H.264 + AAC in FLV. */
export async function ensureMedia(dir: string, spec: MediaSpec = DEFAULT_MEDIA): Promise<string> {
  const file = join(dir, `bench-${spec.width}x${spec.height}-${spec.fps}fps-g${spec.gop}-${spec.videoKbps}k-${spec.seconds}s.flv`);
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  // Film-grain-like noise keeps x264 near the target rate on a synthetic pattern; no B-frames, fixed GOP.
  const args = [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}`,
    '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=44100',
    '-t', String(spec.seconds),
    '-vf', 'noise=alls=12:allf=t',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-bf', '0',
    '-b:v', `${spec.videoKbps}k`, '-maxrate', `${Math.round(spec.videoKbps * 1.1)}k`, '-bufsize', `${spec.videoKbps}k`,
    '-g', String(spec.gop), '-keyint_min', String(spec.gop), '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '96k', '-ac', '2',
    '-f', 'flv', tmp,
  ];
  await execFileAsync(ffmpegBinary(), args, { timeout: 120_000 });
  renameSync(tmp, file);
  return file;
}

/** Splits the FLV file into the configs and the coded frames the publisher loops over. */
export function loadMedia(file: string, spec: MediaSpec = DEFAULT_MEDIA): BenchMedia {
  const reader = new FlvTagReader();
  const all = reader.push(readFileSync(file));
  let videoConfig: Buffer | undefined;
  let audioConfig: Buffer | undefined;
  const tags: MediaTag[] = [];
  let bytes = 0;
  for (const tag of all) {
    if (tag.type === 9) {
      if ((tag.body[0] & 0x0f) !== 7) throw new Error('bench clip: expected H.264 video');
      if (tag.body[1] === 0) videoConfig ??= Buffer.from(tag.body);
      else if (tag.body[1] === 1) tags.push({ kind: 'video', ts: tag.timestamp, body: Buffer.from(tag.body), key: tag.body[0] >> 4 === 1 });
    } else if (tag.type === 8) {
      if (tag.body[0] >> 4 === 10 && tag.body[1] === 0) audioConfig ??= Buffer.from(tag.body);
      else tags.push({ kind: 'audio', ts: tag.timestamp, body: Buffer.from(tag.body), key: false });
    } else continue;
    bytes += tag.body.length;
  }
  if (!videoConfig) throw new Error('bench clip: no AVC sequence header');
  const videos = tags.filter((t) => t.kind === 'video');
  if (!videos.length || !videos[0].key) throw new Error('bench clip: must start with a key frame');
  const frameMs = 1000 / spec.fps;
  const loopMs = Math.round(videos[videos.length - 1].ts + frameMs);
  // avcC: 5 bytes of tag header, then version, profile, compat, level, lengthSizeMinusOne
  const nalLengthSize = (videoConfig[5 + 4] & 3) + 1;
  return { videoConfig, audioConfig, tags, loopMs, nalLengthSize, bitrateKbps: Math.round((bytes * 8) / loopMs), width: spec.width, height: spec.height, fps: spec.fps };
}

/** A copy of an AVC frame body with the probe NAL unit inserted first. */
function withProbe(body: Buffer, nalLengthSize: number, seq: number, sendUs: number): Buffer {
  const out = Buffer.allocUnsafe(body.length + nalLengthSize + PROBE_NAL_SIZE);
  body.copy(out, 0, 0, 5);
  let len = PROBE_NAL_SIZE;
  for (let i = nalLengthSize - 1; i >= 0; i--) {
    out[5 + i] = len & 0xff;
    len >>>= 8;
  }
  writeProbeNal(out, 5 + nalLengthSize, seq, sendUs);
  body.copy(out, 5 + nalLengthSize + PROBE_NAL_SIZE, 5);
  return out;
}

/**
 * Publishes the clip in real time over RTMP with our own client, looping it with increasing timestamps.
 * Each video frame carries its sequence number and its send time (see probe.ts).
 */
export class BenchPublisher {
  videoSent = 0;
  bytesSent = 0;
  closed = false;
  private client: RtmpClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(
    private readonly media: BenchMedia,
    private readonly url: string,
  ) {}

  async start(): Promise<void> {
    const client = await RtmpClient.connect(this.url, { timeoutMs: 10_000 });
    this.client = client;
    client.on('close', () => {
      this.closed = true;
      this.stopTimer();
    });
    await client.publish();
    const m = this.media;
    client.sendMetadata({
      width: m.width, height: m.height, framerate: m.fps, videocodecid: 7, videodatarate: m.bitrateKbps,
      audiocodecid: m.audioConfig ? 10 : undefined, audiosamplerate: 44100, audiochannels: 2, encoder: 'm7s-bench',
    });
    client.sendMedia(MessageType.Video, 0, m.videoConfig);
    if (m.audioConfig) client.sendMedia(MessageType.Audio, 0, m.audioConfig);
    const t0 = nowUs() / 1000;
    let loop = 0;
    let i = 0;
    const tick = (): void => {
      this.timer = undefined;
      if (this.closed) return;
      const elapsed = nowUs() / 1000 - t0;
      while (true) {
        const tag = m.tags[i];
        const ts = loop * m.loopMs + tag.ts;
        if (ts > elapsed) {
          this.timer = setTimeout(tick, Math.max(0, ts - elapsed));
          return;
        }
        if (tag.kind === 'video') {
          const payload = withProbe(tag.body, m.nalLengthSize, ++this.seq, nowUs());
          client.sendMedia(MessageType.Video, ts, payload);
          this.videoSent++;
          this.bytesSent += payload.length;
        } else {
          client.sendMedia(MessageType.Audio, ts, tag.body);
          this.bytesSent += tag.body.length;
        }
        if (++i === m.tags.length) {
          i = 0;
          loop++;
        }
        if (this.closed) return;
      }
    };
    tick();
  }

  stop(): void {
    this.stopTimer();
    if (this.client && !this.closed) this.client.close();
    this.closed = true;
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
