/** Helpers of the transcoder specs (specs only: they run ffmpeg). */
import { spawnSync } from 'node:child_process';
import { AVFrame } from '@m7s/core';
import type { AudioConfig } from '@m7s/media';
import { ffmpegPath } from '@m7s/test-kit/tools';
import { FfmpegAudioTranscoder, FfmpegTranscoderOptions } from './ffmpeg-audio-transcoder';

export const FFMPEG = ffmpegPath();

/** Runs ffmpeg to completion (failing the test on any error output) and returns its stdout. */
export function ffmpeg(args: string[], input?: Buffer): Buffer {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-v', 'error', ...args], { input, maxBuffer: 64 << 20 });
  if (r.status !== 0 || r.stderr.length) throw new Error(`ffmpeg ${args.join(' ')} (${r.status}): ${r.stderr.toString()}`);
  return r.stdout;
}

/** A transcoder output that keeps what it is given. */
export function collector() {
  const configs: AudioConfig[] = [];
  const frames: { dts: number; data: Buffer }[] = [];
  return {
    configs,
    frames,
    config: (c: AudioConfig) => void configs.push(c),
    frame: (dts: number, data: Buffer) => void frames.push({ dts, data }),
  };
}

export const TEST_OPTIONS: FfmpegTranscoderOptions = { ffmpeg: FFMPEG, bitrate: '64k', maxBacklog: 256 * 1024, restartBackoff: 50, maxRestartBackoff: 200 };

export function startTranscoder(input: AudioConfig, target: 'opus' | 'aac', options: Partial<FfmpegTranscoderOptions> = {}) {
  const out = collector();
  const t = new FfmpegAudioTranscoder({ streamPath: 'live/t', input, target, players: () => 1 }, out, { ...TEST_OPTIONS, ...options });
  return { t, out };
}

export const audioFrame = (config: AudioConfig, dts: number, data: Buffer): AVFrame => new AVFrame('audio', config.codec, dts, dts, true, [data], config);

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
