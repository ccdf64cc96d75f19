import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import type { AudioTranscodeRequest, AudioTranscoder, AVFrame, TranscodedAudioOutput } from '@m7s/core';
import { isMediaError } from '@m7s/media';
import { ContentClock } from './content-clock';
import { expectedOutputConfig, inputFormat, InputFormat, outputChannels, outputFormat, OutputFormat } from './transcode-formats';

export interface FfmpegTranscoderOptions {
  /** The ffmpeg binary. */
  ffmpeg: string;
  /** Output bitrate (ffmpeg -b:a). */
  bitrate: string;
  /** Bytes written to ffmpeg and not yet read by it; past this, input frames are dropped. */
  maxBacklog: number;
  /** First wait before restarting a dead ffmpeg; doubles while it keeps dying, up to maxRestartBackoff. */
  restartBackoff: number;
  maxRestartBackoff: number;
}

/** Linux reports process times in USER_HZ ticks, 100 per second on every architecture it runs on. */
const CLOCK_TICKS = 100;
/** A process that ran this long without dying resets the restart backoff. */
const HEALTHY_AFTER_MS = 10_000;
const LOG_INTERVAL_MS = 10_000;
const STDERR_TAIL = 2000;

/** utime + stime of a process in seconds, from /proc/<pid>/stat; undefined when it cannot be read (gone, not Linux). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name (which may hold spaces), from field 3 (state) on: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * One stream's audio transcoded into one codec by an ffmpeg process: frames are framed for ffmpeg's stdin
 * (ADTS, Ogg Opus, raw G.711), its stdout is read back into frames (Ogg Opus, ADTS) and placed on the stream's
 * clock by content time (ContentClock). Writing never waits: past maxBacklog unread bytes, input is dropped.
 * A dead ffmpeg is restarted with backoff until stop(); stop leaves no process, timer or listener.
 */
export class FfmpegAudioTranscoder implements AudioTranscoder {
  private static readonly logger = new Logger('Transcode');
  readonly startedAt = Date.now();
  framesIn = 0;
  framesOut = 0;
  /** Input frames not fed (ffmpeg behind, or restarting). */
  dropped = 0;
  restarts = 0;
  private child: ChildProcess | undefined;
  private input: InputFormat | undefined;
  private output: OutputFormat | undefined;
  private clock = new ContentClock();
  private spawnedAt = 0;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private stderrTail = '';
  /** CPU seconds of the processes that already ended (as last read while they ran). */
  private cpuOfEnded = 0;
  private lastCpu = 0;
  private lastDropLog = 0;
  private lastErrorLog = 0;
  private detachChild: (() => void) | undefined;

  constructor(
    readonly request: AudioTranscodeRequest,
    private readonly sink: TranscodedAudioOutput,
    private readonly options: FfmpegTranscoderOptions,
  ) {
    sink.config(expectedOutputConfig(request.input, request.target));
    this.spawn();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** CPU seconds the ffmpeg processes used: the running one read now, earlier ones as last read. */
  cpuSeconds(): number {
    const pid = this.child?.pid;
    const now = pid === undefined ? undefined : processCpuSeconds(pid);
    if (now !== undefined) this.lastCpu = now;
    return this.cpuOfEnded + this.lastCpu;
  }

  /** The publisher's write path: never waits. */
  write(frame: AVFrame): void {
    const stdin = this.child?.stdin;
    const input = this.input;
    if (this.stopped || !stdin || !input || stdin.destroyed) {
      this.dropped++;
      return;
    }
    if (stdin.writableLength > this.options.maxBacklog) {
      this.dropped++;
      this.logDrop();
      return;
    }
    let framed: { bytes: Buffer; duration: number };
    try {
      framed = input.frame(frame.data[0]);
    } catch (error) {
      if (!isMediaError(error)) throw error;
      this.dropped++;
      return;
    }
    this.clock.input(frame.dts, framed.duration);
    this.framesIn++;
    stdin.write(framed.bytes);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.kill();
  }

  private spawn(): void {
    const { input: config, target } = this.request;
    const input = inputFormat(config);
    if (!input) throw new Error(`cannot feed ${config.codec} to ffmpeg`);
    const output = outputFormat(target, outputChannels(config), this.options.bitrate);
    // -nostdin only stops ffmpeg reading keys from the terminal; the media still comes through pipe:0. A tiny
    // probe starts output at once; not -fflags nobuffer: it throws away the packets read while probing.
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-probesize', '32', '-analyzeduration', '0'];
    args.push(...input.args, '-i', 'pipe:0', '-vn', ...output.args, 'pipe:1');
    const child = spawn(this.options.ffmpeg, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.input = input;
    this.output = output;
    this.clock = new ContentClock();
    this.spawnedAt = Date.now();
    this.stderrTail = '';
    this.lastCpu = 0;
    const onError = (error: Error): void => this.ended(child, `ffmpeg could not run: ${error.message}`);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => this.ended(child, signal ? `ffmpeg killed by ${signal}` : `ffmpeg exited with ${code}`);
    const onData = (chunk: Buffer): void => this.read(child, chunk);
    const onStderr = (chunk: Buffer): void => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL);
    };
    const ignore = (): void => undefined;
    child.on('error', onError);
    child.on('exit', onExit);
    // Writes to a dead ffmpeg fail with EPIPE: its exit is what counts.
    child.stdin?.on('error', ignore);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onStderr);
    this.detachChild = () => {
      child.off('error', onError);
      child.off('exit', onExit);
      child.on('error', ignore);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onStderr);
      child.stdin?.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
    };
    const header = input.header();
    if (header.length) child.stdin?.write(header);
  }

  private read(child: ChildProcess, chunk: Buffer): void {
    if (this.stopped || child !== this.child || !this.output) return;
    let got: ReturnType<OutputFormat['push']>;
    try {
      got = this.output.push(chunk);
    } catch (error) {
      if (!isMediaError(error)) throw error;
      FfmpegAudioTranscoder.logger.error({ msg: 'unreadable ffmpeg output; restarting it', streamPath: this.request.streamPath, error: error.message });
      this.kill();
      return;
    }
    try {
      if (got.config) this.sink.config(got.config);
      for (const packet of got.packets) {
        // Encoder priming wholly before the first input sample is not audio of the stream.
        if (packet.start + packet.duration <= 0) continue;
        const dts = this.clock.place(Math.max(packet.start, 0));
        if (dts === undefined) continue;
        this.framesOut++;
        this.sink.frame(dts, packet.data);
        if (this.stopped) return;
      }
    } catch (error) {
      // A player's sink failing must not take the output (or the process) down.
      this.logError('delivering transcoded audio failed', error);
    }
  }

  /** The process is gone (or being killed): forget it, and restart with backoff unless stopped. */
  private ended(child: ChildProcess, reason: string): void {
    if (child !== this.child) return;
    this.detachChild?.();
    this.detachChild = undefined;
    this.child = undefined;
    this.input = undefined;
    this.output = undefined;
    this.cpuOfEnded += this.lastCpu;
    this.lastCpu = 0;
    if (this.stopped) return;
    if (Date.now() - this.spawnedAt >= HEALTHY_AFTER_MS) this.failures = 0;
    const delay = Math.min(this.options.restartBackoff * 2 ** this.failures, this.options.maxRestartBackoff);
    this.failures++;
    FfmpegAudioTranscoder.logger.warn({
      msg: 'transcoder died; restarting',
      streamPath: this.request.streamPath,
      from: this.request.input.codec,
      to: this.request.target,
      reason,
      stderr: this.stderrTail.trim() || undefined,
      restartIn: delay,
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.restarts++;
      try {
        this.spawn();
      } catch (error) {
        this.logError('transcoder restart failed', error);
      }
    }, delay);
    this.restartTimer.unref();
  }

  /** Ends the running process at once (its output is no longer wanted); a restart follows unless stopped. */
  private kill(): void {
    const child = this.child;
    if (!child) return;
    this.cpuSeconds();
    this.ended(child, 'killed');
    child.kill('SIGKILL');
  }

  private logDrop(): void {
    const now = Date.now();
    if (now - this.lastDropLog < LOG_INTERVAL_MS) return;
    this.lastDropLog = now;
    FfmpegAudioTranscoder.logger.warn({
      msg: 'transcoder behind: dropping input',
      streamPath: this.request.streamPath,
      to: this.request.target,
      backlog: this.child?.stdin?.writableLength,
      dropped: this.dropped,
    });
  }

  private logError(msg: string, error: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorLog < LOG_INTERVAL_MS) return;
    this.lastErrorLog = now;
    FfmpegAudioTranscoder.logger.error({ msg, streamPath: this.request.streamPath, error: String(error) });
  }
}
