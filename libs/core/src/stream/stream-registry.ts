import { Logger } from '@nestjs/common';
import type { ConfigService } from '../config/config.service';
import type { EngineEvents } from '../events/engine-events';
import type { AudioTranscoderPort } from './audio-transcoder';
import type { ClientInfo } from './client-info';
import { Publisher } from './publisher';
import { Stream, StreamHost } from './stream';
import { StreamError } from './stream.errors';
import { Subscriber, SubscriberSink } from './subscriber';

const TICK_MS = 250;
const PATH_SEGMENT = /^[A-Za-z0-9._~\-@]+$/;
const MAX_PATH_LENGTH = 256;

/** Normalizes `/live/cam1/` to `live/cam1`; rejects empty, `..`, odd characters and very long paths. */
export function normalizeStreamPath(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  const segments = trimmed.split('/');
  if (
    !trimmed ||
    trimmed.length > MAX_PATH_LENGTH ||
    segments.some((s) => !PATH_SEGMENT.test(s) || s === '.' || s === '..')
  ) {
    throw new StreamError('BAD_STREAM_PATH', `invalid stream path: ${JSON.stringify(path.slice(0, 100))}`);
  }
  return trimmed;
}

/**
 * Maps stream paths to streams, applies the publish/subscribe policies (timeouts, kick, delay-close)
 * and emits the domain events. One timer for all streams checks the time-based policies.
 */
export class StreamRegistry implements StreamHost {
  private readonly logger = new Logger('StreamRegistry');
  /** Set by the transcode module: makes audio for players that cannot carry the stream's codec. */
  audioTranscoder: AudioTranscoderPort | undefined;
  private readonly streams = new Map<string, Stream>();
  /** alias -> target stream path: players asking for the alias get the target. */
  private readonly aliases = new Map<string, string>();
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private shuttingDown = false;

  constructor(
    private readonly config: ConfigService,
    private readonly events: EngineEvents,
  ) {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  get(path: string): Stream | undefined {
    return this.streams.get(path);
  }

  list(): Stream[] {
    return [...this.streams.values()];
  }

  /** Claims a stream path for a publisher. Throws STREAM_BUSY unless kick-existing applies. */
  publish(path: string, info: ClientInfo): Publisher {
    if (this.shuttingDown) throw new StreamError('SHUTDOWN', 'server is shutting down');
    const streamPath = normalizeStreamPath(path);
    const policy = this.config.publishPolicy(info.protocol, info.query);
    const existing = this.streams.get(streamPath)?.publisher;
    if (existing) {
      if (!policy.kickExisting) throw new StreamError('STREAM_BUSY', `${streamPath} is already being published`);
      existing.stop(new StreamError('KICKED', `replaced by a new publisher from ${info.remoteAddress}`));
    }
    const stream = this.streams.get(streamPath) ?? this.createStream(streamPath);
    // A publisher following another on the same stream continues its clock, so waiting players see time go on.
    const startAt = stream.framesWritten > 0 ? stream.clock + 40 : 0;
    const publisher = new Publisher(this.newId(), stream, info, policy, startAt);
    stream.attachPublisher(publisher);
    this.logger.log({ msg: 'publish start', streamPath, publisherId: publisher.id, protocol: info.protocol, remoteAddress: info.remoteAddress });
    this.events.emit('publish_start', {
      streamPath,
      time: Date.now(),
      publisherId: publisher.id,
      protocol: info.protocol,
      remoteAddress: info.remoteAddress,
      query: info.query.toString(),
    });
    // Readers that waited for this publisher are started when its first key frame arrives.
    for (const subscriber of stream.subscribers) subscriber.waitingSince = Date.now();
    return publisher;
  }

  /**
   * Adds a player; it starts at once if the stream is live, else waits for a publisher (and `stream_demand` is
   * emitted, so an on-demand source can start). An alias plays its target.
   */
  subscribe(path: string, info: ClientInfo, sink: SubscriberSink): Subscriber {
    if (this.shuttingDown) throw new StreamError('SHUTDOWN', 'server is shutting down');
    const streamPath = this.resolveAlias(normalizeStreamPath(path));
    const policy = this.config.subscribePolicy(info.protocol, info.query);
    const stream = this.streams.get(streamPath) ?? this.createStream(streamPath);
    const subscriber = new Subscriber(this.newId(), streamPath, info, policy, sink);
    stream.addSubscriber(subscriber);
    // Nobody publishes it yet: an on-demand source (a pull proxy) may start now; the player waits meanwhile.
    if (!stream.publisher && subscriber.state === 'waiting') {
      this.events.emit('stream_demand', { streamPath, time: Date.now(), subscriberId: subscriber.id, protocol: info.protocol, remoteAddress: info.remoteAddress });
    }
    return subscriber;
  }

  /** The adapter's player went away. */
  unsubscribe(subscriber: Subscriber, reason = 'closed'): void {
    const stream = this.streams.get(subscriber.streamPath);
    if (!stream || !stream.subscribers.has(subscriber)) return;
    subscriber.state = 'ended';
    stream.removeSubscriber(subscriber);
    this.emitSubscribeEnd(subscriber, reason);
    this.removeIfUnused(stream);
  }

  /** Stops a stream's publisher (operator action). */
  stopPublisher(path: string, error = new StreamError('STOPPED', 'stopped by an operator')): boolean {
    const publisher = this.streams.get(path)?.publisher;
    if (!publisher) return false;
    publisher.stop(error);
    return true;
  }

  /** Players of `alias` get `streamPath` from now on (both already normalized). */
  setAlias(alias: string, streamPath: string): void {
    this.aliases.set(alias, streamPath);
  }

  removeAlias(alias: string): boolean {
    return this.aliases.delete(alias);
  }

  /** The target of an alias, or the path itself. */
  resolveAlias(path: string): string {
    return this.aliases.get(path) ?? path;
  }

  aliasList(): { alias: string; streamPath: string }[] {
    return [...this.aliases].map(([alias, streamPath]) => ({ alias, streamPath }));
  }

  /** A player by id, waiting or playing, on any stream. */
  findSubscriber(id: string): Subscriber | undefined {
    for (const stream of this.streams.values()) {
      for (const subscriber of stream.subscribers) if (subscriber.id === id) return subscriber;
    }
    return undefined;
  }

  /** Ends one player (operator action); its adapter is told to disconnect it. */
  stopSubscriber(id: string, error = new StreamError('STOPPED', 'stopped by an operator')): boolean {
    const subscriber = this.findSubscriber(id);
    const stream = subscriber && this.streams.get(subscriber.streamPath);
    if (!subscriber || !stream) return false;
    this.endSubscriber(stream, subscriber, error);
    this.removeIfUnused(stream);
    return true;
  }

  /** Ends every publisher and player and stops the timer (graceful shutdown). */
  shutdown(): void {
    this.shuttingDown = true;
    clearInterval(this.timer);
    const error = new StreamError('SHUTDOWN', 'server is shutting down');
    for (const stream of [...this.streams.values()]) {
      stream.publisher?.stop(error);
      for (const subscriber of [...stream.subscribers]) this.endSubscriber(stream, subscriber, error);
      this.streams.delete(stream.path);
    }
  }

  // StreamHost

  publisherClosed(stream: Stream, publisher: Publisher, reason: string): void {
    this.logger.log({ msg: 'publish end', streamPath: stream.path, publisherId: publisher.id, reason });
    this.events.emit('publish_end', {
      streamPath: stream.path,
      time: Date.now(),
      publisherId: publisher.id,
      protocol: publisher.info.protocol,
      remoteAddress: publisher.info.remoteAddress,
      query: publisher.info.query.toString(),
      reason,
    });
    for (const subscriber of [...stream.subscribers]) {
      if (!subscriber.publisherLeft()) {
        stream.removeSubscriber(subscriber);
        this.emitSubscribeEnd(subscriber, 'publisher left');
      }
    }
    this.removeIfUnused(stream);
  }

  subscriberStarted(stream: Stream, subscriber: Subscriber): void {
    // One subscribe_start / subscribe_end pair per player, however many publishers it saw.
    if (subscriber.starts > 1) return;
    this.events.emit('subscribe_start', {
      streamPath: stream.path,
      time: Date.now(),
      subscriberId: subscriber.id,
      protocol: subscriber.info.protocol,
      remoteAddress: subscriber.info.remoteAddress,
      query: subscriber.info.query.toString(),
    });
  }

  /** Time-based policies of every stream. */
  tick(now = Date.now()): void {
    for (const stream of [...this.streams.values()]) {
      const publisher = stream.publisher;
      if (publisher) {
        const { publishTimeout, idleTimeout } = publisher.policy;
        if (publishTimeout > 0 && now - publisher.lastFrameAt > publishTimeout) {
          publisher.stop(new StreamError('PUBLISH_TIMEOUT', `no media for ${publishTimeout} ms`));
        } else if (idleTimeout > 0 && stream.noReaderSince !== undefined && now - stream.noReaderSince > idleTimeout) {
          publisher.stop(new StreamError('IDLE_TIMEOUT', `no reader for ${idleTimeout} ms`));
        }
      }
      for (const subscriber of [...stream.subscribers]) {
        if (subscriber.state === 'waiting' && now - subscriber.waitingSince > subscriber.policy.waitTimeout) {
          this.endSubscriber(stream, subscriber, new StreamError('WAIT_TIMEOUT', `no publisher for ${stream.path} within ${subscriber.policy.waitTimeout} ms`));
        }
      }
      this.removeIfUnused(stream, now);
    }
  }

  private endSubscriber(stream: Stream, subscriber: Subscriber, error: StreamError): void {
    subscriber.end(error);
    stream.removeSubscriber(subscriber);
    this.emitSubscribeEnd(subscriber, error.code);
  }

  /** subscribe_end for a player that was started (one that only ever waited had no subscribe_start). */
  private emitSubscribeEnd(subscriber: Subscriber, reason: string): void {
    if (subscriber.starts === 0) return;
    this.events.emit('subscribe_end', {
      streamPath: subscriber.streamPath,
      time: Date.now(),
      subscriberId: subscriber.id,
      protocol: subscriber.info.protocol,
      remoteAddress: subscriber.info.remoteAddress,
      query: subscriber.info.query.toString(),
      reason,
      droppedFrames: subscriber.droppedFrames,
      bytesSent: subscriber.bytesSent,
    });
  }

  /** A stream without publisher and readers goes away once its delay-close has passed. */
  private removeIfUnused(stream: Stream, now = Date.now()): void {
    if (stream.publisher || stream.subscribers.size > 0) return;
    if (now < stream.keepUntil) return;
    if (this.streams.get(stream.path) !== stream) return;
    this.streams.delete(stream.path);
    this.events.emit('stream_close', { streamPath: stream.path, time: now });
  }

  private createStream(path: string): Stream {
    const stream = new Stream(path, this);
    this.streams.set(path, stream);
    return stream;
  }

  private newId(): string {
    return String(this.nextId++);
  }
}
