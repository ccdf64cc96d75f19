import { Logger } from '@nestjs/common';
import type { AudioCodec } from '@m7s/media';
import type { AudioTranscoderPort } from './audio-transcoder';
import type { AVFrame } from './av-frame';
import { DerivedAudio } from './derived-audio';
import { FrameRing } from './frame-ring';
import type { Publisher } from './publisher';
import type { AudioRoute, Subscriber } from './subscriber';
import type { Track } from './track';

export interface StreamHost {
  publisherClosed(stream: Stream, publisher: Publisher, reason: string): void;
  subscriberStarted(stream: Stream, subscriber: Subscriber): void;
  /** Makes transcoded audio for players that cannot carry the publisher's codec; none = they get no audio. */
  readonly audioTranscoder?: AudioTranscoderPort;
}

/**
 * A stream path: at most one publisher, its players and the players waiting for one. The ring is
 * reset when a new publisher arrives.
 */
export class Stream {
  private static readonly logger = new Logger('Stream');
  publisher: Publisher | undefined;
  readonly subscribers = new Set<Subscriber>();
  readonly createdAt = Date.now();
  /** While the stream has no publisher, the time until which it is kept for one to come back (delay-close). */
  keepUntil = 0;
  /** The stream's clock: the newest dts any of its publishers wrote, so a returning publisher continues it. */
  clock = 0;
  framesWritten = 0;
  /** When the stream last had no reader (for idle timeout). */
  noReaderSince: number | undefined = Date.now();
  ring = new FrameRing({ bufferTime: 0, maxFrames: 16, maxBytes: 0 });
  /** Transcoded audio by target codec, while players are bound to it. */
  readonly derivedAudio = new Map<AudioCodec, DerivedAudio>();
  private ready = false;
  /** The publisher's audio track (and config version) the players' audio routes were chosen for. */
  private routedAudio: { track: Track | undefined; version: number } = { track: undefined, version: 0 };

  constructor(
    readonly path: string,
    private readonly host: StreamHost,
  ) {}

  get isReady(): boolean {
    return this.ready;
  }

  attachPublisher(publisher: Publisher): void {
    this.publisher = publisher;
    const { bufferTime, maxRingFrames, maxRingBytes } = publisher.policy;
    this.ring = new FrameRing({ bufferTime, maxFrames: maxRingFrames, maxBytes: maxRingBytes });
    this.ready = false;
  }

  /** The publisher's write path. */
  write(frame: AVFrame, isKey: boolean): void {
    if (frame.kind === 'audio') this.checkAudioConfig();
    if (frame.dts > this.clock) this.clock = frame.dts;
    this.framesWritten++;
    this.ring.push(frame, isKey);
    if (!this.ready) {
      const publisher = this.publisher!;
      const startable = frame.kind === 'video' ? frame.keyFrame : publisher.isAudioOnly();
      if (!startable) return;
      this.ready = true;
      // Start everyone who waited, from this frame (the ring's latest key frame).
      for (const subscriber of this.subscribers) this.startSubscriber(subscriber);
      return;
    }
    for (const subscriber of this.subscribers) {
      if (subscriber.state === 'playing') subscriber.offer(frame);
    }
    if (frame.kind === 'audio') for (const derived of this.derivedAudio.values()) derived.input(frame);
  }

  addSubscriber(subscriber: Subscriber): void {
    this.subscribers.add(subscriber);
    this.noReaderSince = undefined;
    if (this.ready && this.publisher) this.startSubscriber(subscriber);
  }

  removeSubscriber(subscriber: Subscriber): void {
    this.setAudioRoute(subscriber, 'original');
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0) this.noReaderSince = Date.now();
  }

  publisherClosed(publisher: Publisher, reason: string): void {
    if (this.publisher !== publisher) return;
    this.publisher = undefined;
    this.keepUntil = Date.now() + publisher.policy.delayCloseTimeout;
    this.ready = false;
    this.ring.clear();
    this.stopDerivedAudio();
    this.routedAudio = { track: undefined, version: 0 };
    this.host.publisherClosed(this, publisher, reason);
  }

  private startSubscriber(subscriber: Subscriber): void {
    if (subscriber.state === 'ended') return;
    this.checkAudioConfig();
    this.setAudioRoute(subscriber, this.chooseAudioRoute(subscriber));
    const keySeq = this.ring.latestKeySeq() ?? this.ring.nextSeq;
    subscriber.begin(this.publisher!, this.ring.from(keySeq));
    this.host.subscriberStarted(this, subscriber);
  }

  /** The publisher's audio appeared or changed its config: transcoders restart for it and every player's route is chosen again. */
  private checkAudioConfig(): void {
    const track = this.publisher?.tracks.audio;
    const version = track?.version ?? 0;
    if (track === this.routedAudio.track && version === this.routedAudio.version) return;
    this.routedAudio = { track, version };
    this.stopDerivedAudio();
    for (const subscriber of this.subscribers) {
      if (subscriber.state === 'playing') this.setAudioRoute(subscriber, this.chooseAudioRoute(subscriber));
    }
  }

  /** The publisher's audio when the player can carry it (or asked for it as is), else transcoded into the first codec it lists that can be made. */
  private chooseAudioRoute(subscriber: Subscriber): AudioRoute {
    const track = this.publisher?.tracks.audio;
    const wanted = subscriber.sink.audioCodecs;
    const { audio, transcodeAudio } = subscriber.policy;
    if (!track || !wanted || !audio || !transcodeAudio || wanted.includes(track.codec)) return 'original';
    const port = this.host.audioTranscoder;
    for (const codec of wanted) {
      const existing = this.derivedAudio.get(codec);
      if (existing) return existing;
      if (!port?.canTranscode(track.config, codec)) continue;
      try {
        const derived = new DerivedAudio(this.path, codec, track.config, port);
        this.derivedAudio.set(codec, derived);
        return derived;
      } catch (error) {
        Stream.logger.error({ msg: 'audio transcoder not started', streamPath: this.path, from: track.codec, to: codec, error: String(error) });
      }
    }
    return 'none';
  }

  private setAudioRoute(subscriber: Subscriber, route: AudioRoute): void {
    const previous = subscriber.audioRoute;
    subscriber.audioRoute = route;
    if (route instanceof DerivedAudio) route.players.add(subscriber);
    if (!(previous instanceof DerivedAudio) || previous === route) return;
    previous.players.delete(subscriber);
    // The last player of a transcoded track left: its transcoder stops.
    if (previous.players.size === 0) {
      previous.stop();
      if (this.derivedAudio.get(previous.codec) === previous) this.derivedAudio.delete(previous.codec);
    }
  }

  private stopDerivedAudio(): void {
    for (const derived of this.derivedAudio.values()) derived.stop();
    this.derivedAudio.clear();
    for (const subscriber of this.subscribers) subscriber.audioRoute = 'original';
  }
}
