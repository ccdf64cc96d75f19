import { Logger } from '@nestjs/common';
import type { AudioCodec, MediaKind } from '@m7s/media';
import type { SubscribeConfig } from '../config/config.schema';
import type { AVFrame } from './av-frame';
import type { ClientInfo } from './client-info';
import type { DerivedAudio } from './derived-audio';
import type { Publisher } from './publisher';
import { StreamError } from './stream.errors';
import type { Track, TrackSet } from './track';

/**
 * What a protocol adapter implements to play a stream. Calls come synchronously from the publisher's
 * write path, so a sink must only queue bytes on its socket, never wait.
 */
export interface SubscriberSink {
  /** Bytes accepted but not yet sent (e.g. socket.writableLength). Over the limit, frames are skipped to the next key frame. */
  backlog(): number;
  /** The stream is ready: write headers and the configs of the tracks given. */
  start(tracks: TrackSet, policy: SubscribeConfig): void;
  /** A track appeared or changed its config after start. */
  track(track: Track): void;
  /**
   * A frame to send. Timestamps are the stream's clock (frame.dts), the same for every player, so a
   * frame's serialization is built once (frame.cached) and shared by all of them.
   */
  frame(frame: AVFrame): void;
  /** The publisher left. Return true to stay and wait for the next one (RTMP), false to be ended. */
  publisherLeft(): boolean;
  /** The engine ends this player (no publisher in time, stopped by an operator, shutdown). */
  end(error: StreamError): void;
  /** Bytes written to the client so far, when the sink counts them (read live by metrics). */
  readonly bytesSent?: number;
  /**
   * The audio codecs this player can carry, preferred first (undefined = any). When the stream's is not
   * among them, the player gets the stream's audio transcoded into the first one a transcoder can make, or
   * no audio (unless its policy says transcodeAudio: false).
   */
  readonly audioCodecs?: readonly AudioCodec[];
}

/** Where a player's audio comes from: the publisher's track, a transcoded one, or nowhere. */
export type AudioRoute = 'original' | 'none' | DerivedAudio;

const DROP_LOG_INTERVAL_MS = 10_000;

export class Subscriber {
  private static readonly logger = new Logger('Subscriber');
  state: 'waiting' | 'playing' | 'ended' = 'waiting';
  readonly createdAt = Date.now();
  /** When the player last started waiting for a publisher. */
  waitingSince = Date.now();
  droppedFrames = 0;
  framesSent = 0;
  /** How many publishers this player has been started on (an RTMP player may outlive one). */
  starts = 0;
  /** Set by the stream when the player starts or the publisher's audio config changes. */
  audioRoute: AudioRoute = 'original';
  private reportedBytesSent = 0;
  private publisher: Publisher | undefined;
  /** The track (and its config version) whose config the sink was last given, per kind. */
  private sent: Record<MediaKind, { track: Track | undefined; version: number }> = { video: { track: undefined, version: 0 }, audio: { track: undefined, version: 0 } };
  private needKeyFrame = false;
  private lastDropLog = 0;
  /** Extra backlog tolerated while the GOP burst sent at start drains. */
  private burstAllowance = 0;

  constructor(
    readonly id: string,
    readonly streamPath: string,
    readonly info: ClientInfo,
    readonly policy: SubscribeConfig,
    readonly sink: SubscriberSink,
  ) {}

  /** Bytes written to the client: live from the sink when it counts them, else what the adapter last set. */
  get bytesSent(): number {
    return this.sink.bytesSent ?? this.reportedBytesSent;
  }

  set bytesSent(bytes: number) {
    this.reportedBytesSent = bytes;
  }

  /** Called by the stream when its publisher is ready (or at once if it already is). */
  begin(publisher: Publisher, backlog: Iterable<AVFrame>): void {
    this.publisher = publisher;
    this.state = 'playing';
    this.starts++;
    this.needKeyFrame = false;
    const tracks: TrackSet = {};
    const video = this.trackOf('video') as TrackSet['video'];
    const audio = this.trackOf('audio') as TrackSet['audio'];
    if (video) tracks.video = video;
    if (audio) tracks.audio = audio;
    this.sent = { video: { track: video, version: video?.version ?? 0 }, audio: { track: audio, version: audio?.version ?? 0 } };
    if (!this.guard(() => this.sink.start(tracks, this.policy))) return;
    // The GOP cache is sent at once; a new player is not "slow" while that burst drains.
    const frames = [...backlog];
    this.burstAllowance = frames.reduce((n, f) => n + f.size, 0);
    for (const frame of frames) {
      if (this.state !== 'playing') return;
      this.offer(frame);
    }
  }

  /** Publisher write path: deliver or drop, never wait. */
  offer(frame: AVFrame): void {
    if (frame.kind === 'audio' && this.audioRoute !== 'original') return;
    this.deliver(frame);
  }

  /** A frame of a transcoded track: delivered only to the players bound to it. */
  offerDerived(frame: AVFrame, source: DerivedAudio): void {
    if (this.state !== 'playing' || this.audioRoute !== source) return;
    this.deliver(frame);
  }

  /** The track the sink is given for a kind: per policy, and for audio per route. */
  private trackOf(kind: MediaKind): Track | undefined {
    if (kind === 'video') return this.policy.video ? this.publisher?.tracks.video : undefined;
    if (!this.policy.audio) return undefined;
    const route = this.audioRoute;
    return route === 'original' ? this.publisher?.tracks.audio : route === 'none' ? undefined : route.track;
  }

  private deliver(frame: AVFrame): void {
    const kind = frame.kind;
    if (kind === 'video' ? !this.policy.video : !this.policy.audio) return;
    const track = this.trackOf(kind);
    const sent = this.sent[kind];
    if (track && (sent.track !== track || sent.version !== track.version)) {
      sent.track = track;
      sent.version = track.version;
      if (!this.guard(() => this.sink.track(track))) return;
    }
    if (this.needKeyFrame) {
      if (!this.isResumePoint(frame)) {
        this.droppedFrames++;
        return;
      }
      this.needKeyFrame = false;
    }
    const backlog = this.sink.backlog();
    if (backlog > this.policy.maxBacklog + this.burstAllowance) {
      this.needKeyFrame = true;
      this.droppedFrames++;
      this.logDrop();
      return;
    }
    if (this.burstAllowance > 0 && backlog <= this.policy.maxBacklog) this.burstAllowance = 0;
    this.framesSent++;
    this.guard(() => this.sink.frame(frame));
  }

  /**
   * Runs a sink call from the publisher's write path. A sink that throws (a format that cannot carry the
   * codec, a bug) ends this player alone; the publisher and the other players go on.
   */
  private guard(call: () => void): boolean {
    try {
      call();
      return true;
    } catch (error) {
      Subscriber.logger.error({ msg: 'player failed', streamPath: this.streamPath, subscriberId: this.id, protocol: this.info.protocol, error: String(error) });
      this.end(new StreamError('PLAYER_FAILED', error instanceof Error ? error.message : String(error)));
      return false;
    }
  }

  /** The publisher left; returns whether the player keeps waiting. */
  publisherLeft(): boolean {
    this.publisher = undefined;
    if (this.state === 'ended') return false;
    if (this.sink.publisherLeft()) {
      this.state = 'waiting';
      this.waitingSince = Date.now();
      return true;
    }
    return false;
  }

  end(error: StreamError): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.sink.end(error);
  }

  private isResumePoint(frame: AVFrame): boolean {
    const followsVideo = this.policy.video && this.publisher?.tracks.video !== undefined;
    return followsVideo ? frame.kind === 'video' && frame.keyFrame : frame.kind === 'audio';
  }

  private logDrop(): void {
    const now = Date.now();
    if (now - this.lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this.lastDropLog = now;
    Subscriber.logger.warn({
      msg: 'slow reader: skipping to the next key frame',
      streamPath: this.streamPath,
      subscriberId: this.id,
      protocol: this.info.protocol,
      remoteAddress: this.info.remoteAddress,
      droppedFrames: this.droppedFrames,
      backlog: this.sink.backlog(),
      allowance: this.burstAllowance,
      framesSent: this.framesSent,
    });
  }
}
