import type { AudioConfig, TrackConfig, VideoConfig } from '@m7s/media';
import type { PublishConfig } from '../config/config.schema';
import { AVFrame } from './av-frame';
import type { ClientInfo } from './client-info';
import type { Stream } from './stream';
import { StreamError } from './stream.errors';
import { Track, TrackSet } from './track';

/** Without a hint from the publisher, a stream with only audio this long is treated as audio-only. */
const AUDIO_ONLY_AFTER_MS = 1000;

/**
 * The writing side of a stream. A protocol adapter sets track configs and writes frames; the engine
 * fans them out synchronously. `onStop` is how the engine (timeouts, kick, operator) asks the adapter
 * to disconnect its client.
 */
export class Publisher {
  readonly tracks: TrackSet = {};
  readonly createdAt = Date.now();
  lastFrameAt = Date.now();
  closed = false;
  /** Set by the adapter: the engine wants this publisher gone. */
  onStop: ((error: StreamError) => void) | undefined;
  /** Set by an adapter that can ask its source for a key frame (WHIP sends PLI); players' PLI/FIR call it, rate limited by the caller. */
  requestKeyFrame: (() => void) | undefined;
  /** Hint from metadata/SDP: whether video will come (lets an audio-only stream start at once). */
  expectVideo: boolean | undefined;
  private epoch: number | undefined;
  private firstAudioDts: number | undefined;

  constructor(
    readonly id: string,
    readonly stream: Stream,
    readonly info: ClientInfo,
    readonly policy: PublishConfig,
    /** Where this publisher's clock starts on the stream's clock (continues after a previous publisher). */
    private readonly startAt = 0,
  ) {}

  get streamPath(): string {
    return this.stream.path;
  }

  /** Payload bytes of every frame written so far (counted per track on the write path). */
  get bytesReceived(): number {
    return (this.tracks.video?.bytes ?? 0) + (this.tracks.audio?.bytes ?? 0);
  }

  setTrack(config: TrackConfig): void {
    if (this.closed) return;
    if (config.kind === 'video' ? !this.policy.video : !this.policy.audio) return;
    const existing = this.tracks[config.kind];
    if (!existing) {
      if (config.kind === 'video') this.tracks.video = new Track<VideoConfig>(config);
      else this.tracks.audio = new Track<AudioConfig>(config);
    } else {
      (existing as Track).update(config);
    }
  }

  /** `dts`/`pts` in ms on the publisher's clock; the engine rebases them to the stream's start. */
  writeVideo(dts: number, pts: number, keyFrame: boolean, units: Buffer[]): void {
    const track = this.tracks.video;
    if (this.closed || !track || !this.policy.video) return;
    const base = this.rebase(dts);
    const frame = new AVFrame('video', track.codec, base, base + (pts - dts), keyFrame, units, track.config);
    this.account(track, frame);
    this.stream.write(frame, keyFrame);
  }

  writeAudio(dts: number, data: Buffer): void {
    const track = this.tracks.audio;
    if (this.closed || !track || !this.policy.audio) return;
    const base = this.rebase(dts);
    this.firstAudioDts ??= base;
    const frame = new AVFrame('audio', track.codec, base, base, true, [data], track.config, data.length);
    this.account(track, frame);
    this.stream.write(frame, !this.hasVideo());
  }

  /** The stream can start players: a key frame is in the ring, or the stream is audio-only. */
  isAudioOnly(): boolean {
    if (this.hasVideo()) return false;
    if (this.expectVideo === false || !this.policy.video) return true;
    return this.firstAudioDts !== undefined && this.stream.clock - this.firstAudioDts >= AUDIO_ONLY_AFTER_MS;
  }

  /** The adapter's client went away (or the adapter ends the publish). */
  close(reason = 'ended'): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.publisherClosed(this, reason);
  }

  /** The engine or an operator stops this publisher: the adapter is told to disconnect. */
  stop(error: StreamError): void {
    if (this.closed) return;
    this.close(error.code);
    this.onStop?.(error);
  }

  private hasVideo(): boolean {
    return this.tracks.video !== undefined;
  }

  private rebase(dts: number): number {
    this.epoch ??= dts;
    return dts - this.epoch + this.startAt;
  }

  private account(track: Track, frame: AVFrame): void {
    track.frames++;
    track.bytes += frame.size;
    this.lastFrameAt = Date.now();
  }
}
