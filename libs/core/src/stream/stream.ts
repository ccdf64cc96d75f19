import type { AVFrame } from './av-frame';
import { FrameRing } from './frame-ring';
import type { Publisher } from './publisher';
import type { Subscriber } from './subscriber';

export interface StreamHost {
  publisherClosed(stream: Stream, publisher: Publisher, reason: string): void;
  subscriberStarted(stream: Stream, subscriber: Subscriber): void;
}

/**
 * A stream path: at most one publisher, its players and the players waiting for one. The ring is
 * reset when a new publisher arrives.
 */
export class Stream {
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
  private ready = false;

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
  }

  addSubscriber(subscriber: Subscriber): void {
    this.subscribers.add(subscriber);
    this.noReaderSince = undefined;
    if (this.ready && this.publisher) this.startSubscriber(subscriber);
  }

  removeSubscriber(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0) this.noReaderSince = Date.now();
  }

  publisherClosed(publisher: Publisher, reason: string): void {
    if (this.publisher !== publisher) return;
    this.publisher = undefined;
    this.keepUntil = Date.now() + publisher.policy.delayCloseTimeout;
    this.ready = false;
    this.ring.clear();
    this.host.publisherClosed(this, publisher, reason);
  }

  private startSubscriber(subscriber: Subscriber): void {
    if (subscriber.state === 'ended') return;
    const keySeq = this.ring.latestKeySeq() ?? this.ring.nextSeq;
    subscriber.begin(this.publisher!, this.ring.from(keySeq));
    this.host.subscriberStarted(this, subscriber);
  }
}
