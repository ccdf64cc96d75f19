import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aacConfig, adtsToAudioSpecificConfig, parseAdtsHeader, splitAdts } from '@m7s/media';
import { waitFor } from '@m7s/test-kit/wait';
import { FfmpegAudioTranscoder, processCpuSeconds } from './ffmpeg-audio-transcoder';
import { audioFrame, ffmpeg, pidAlive, startTranscoder } from './transcode-test-fixtures';

describe('FfmpegAudioTranscoder: process lifecycle (real ffmpeg)', () => {
  let running: FfmpegAudioTranscoder | undefined;
  afterEach(() => running?.stop());

  it('restarts a dead ffmpeg with backoff and goes on; stop leaves no process', async () => {
    const adts = ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=0.6', '-c:a', 'aac', '-f', 'adts', 'pipe:1']);
    const frames = splitAdts(adts);
    const config = aacConfig(adtsToAudioSpecificConfig(parseAdtsHeader(adts)));
    const { t, out } = startTranscoder(config, 'opus');
    running = t;
    const first = t.pid!;
    expect(pidAlive(first)).toBe(true);
    process.kill(first, 'SIGKILL');
    await waitFor(() => t.restarts === 1 && t.pid !== undefined && t.pid !== first, 'the restart', 10_000, 10);
    expect(pidAlive(first)).toBe(false);
    frames.forEach((data, i) => t.write(audioFrame(config, 20_000 + i * (1024 / 48), data)));
    await waitFor(() => out.frames.length > 20, 'output after the restart', 10_000, 10);
    expect(out.frames[0].dts).toBe(20_000);
    const second = t.pid!;
    expect(processCpuSeconds(second)).toBeGreaterThanOrEqual(0);
    t.stop();
    expect(t.pid).toBeUndefined();
    await waitFor(() => !pidAlive(second), 'ffmpeg gone after stop', 10_000, 10);
    const count = out.frames.length;
    t.write(audioFrame(config, 30_000, frames[0]));
    expect(out.frames.length).toBe(count);
  });

  it('never waits on ffmpeg: input past the backlog bound is dropped; a missing binary is retried, not thrown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm7s-transcode-'));
    try {
      // An "ffmpeg" that never reads its stdin.
      const stuck = join(dir, 'stuck-ffmpeg');
      writeFileSync(stuck, '#!/bin/sh\nexec sleep 30\n');
      chmodSync(stuck, 0o755);
      const config = aacConfig(Buffer.from('1190', 'hex'));
      const { t } = startTranscoder(config, 'opus', { ffmpeg: stuck, maxBacklog: 4096 });
      running = t;
      const frame = audioFrame(config, 0, Buffer.alloc(400, 1));
      for (let i = 0; i < 1000; i++) t.write(frame);
      expect(t.dropped).toBeGreaterThan(500);
      const pid = t.pid!;
      t.stop();
      await waitFor(() => !pidAlive(pid), 'the stuck process gone', 10_000, 10);

      const missing = startTranscoder(config, 'opus', { ffmpeg: join(dir, 'no-such-ffmpeg') }).t;
      running = missing;
      await waitFor(() => missing.restarts >= 1 && missing.pid === undefined, 'a retry', 10_000, 10);
      missing.write(frame);
      expect(missing.framesIn).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
