import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { EngineEvents, Publisher, RelayDriver, RelayDrivers, RelayOptions, RelaySession, StreamRegistry, Subscriber } from '@m7s/core';
import { RtmpClient, RtmpClientOptions } from './rtmp-client';
import { RtmpIngest } from './rtmp-ingest';
import type { RtmpMessage } from './protocol';
import { RtmpSink } from './rtmp-sink';
import { splitQuery } from './rtmp-url';

/** Media messages kept while a pull's play is being confirmed. */
const MAX_EARLY_MESSAGES = 256;

/**
 * A running pull or push; `done` settles when it ends, with the reason. `rtt()` is the time the RTMP connect
 * took (TCP, handshake and NetConnection.connect: about three round trips), measured once.
 */
export type RtmpRelay = RelaySession;

/** What pull and push accept: the proxy layer's options and the RTMP client's own. */
export type RtmpRelayOptions = RelayOptions & RtmpClientOptions;

/**
 * Pulls `rtmp://` streams into local stream paths and pushes local streams to remote `rtmp://` servers; the
 * relay driver of the proxy layer for rtmp:// and rtmps:// URLs. Reconnection policy belongs to the proxy layer.
 */
@Injectable()
export class RtmpRelayService implements RelayDriver, OnModuleInit, OnApplicationShutdown {
  readonly schemes = ['rtmp', 'rtmps'] as const;
  private readonly logger = new Logger('RtmpRelay');
  private readonly relays = new Set<RtmpRelay>();

  constructor(
    private readonly registry: StreamRegistry,
    private readonly events: EngineEvents,
    private readonly drivers: RelayDrivers,
  ) {}

  onModuleInit(): void {
    this.drivers.register(this);
  }

  /**
   * Plays `url` and publishes what arrives as `streamPath`. Resolves once the remote play started.
   * `audio: false` publishes the video only.
   */
  async pull(url: string, streamPath: string, options: RtmpRelayOptions = {}): Promise<RtmpRelay> {
    const connectStart = Date.now();
    const client = await RtmpClient.connect(url, clientOptions(options));
    const connectMs = Date.now() - connectStart;
    let publisher: Publisher | undefined;
    // Media that arrives with NetStream.Play.Start (nginx-rtmp sends the AAC sequence header right after it,
    // in the same read) is emitted before `play()` resolves: keep it, bounded, for the ingest.
    const early: RtmpMessage[] = [];
    const keep = (msg: RtmpMessage) => {
      if (early.length < MAX_EARLY_MESSAGES) early.push(msg);
    };
    client.on('media', keep);
    try {
      await withDeadline(client, client.play(), options, 'play');
      const query = splitQuery(url).query;
      if (options.audio === false) query.set('audio', '0');
      publisher = this.registry.publish(streamPath, { protocol: 'rtmp-pull', remoteAddress: client.conn.remoteAddress, query });
    } catch (error) {
      client.close();
      throw error;
    } finally {
      client.off('media', keep);
    }
    const ingest = new RtmpIngest(publisher);
    const handle = (msg: RtmpMessage) => {
      try {
        ingest.handle(msg);
      } catch (error) {
        client.conn.close('bad media from the pulled server', error);
      }
    };
    for (const msg of early) handle(msg);
    client.on('media', handle);
    publisher.onStop = () => client.close();
    this.events.emit('pull_start', { streamPath, url, time: Date.now() });
    const pub = publisher;
    const done = new Promise<string>((resolve) =>
      client.once('close', (reason: string) => {
        pub.close(`pull ended: ${reason}`);
        this.events.emit('pull_end', { streamPath, url, time: Date.now(), reason });
        resolve(reason);
      }),
    );
    return this.track({ url, streamPath, done, rtt: () => connectMs, stop: () => client.close() });
  }

  /** Publishes the local `streamPath` to `url`. Resolves once the remote accepted the publish. `audio: false` sends the video only. */
  async push(streamPath: string, url: string, options: RtmpRelayOptions = {}): Promise<RtmpRelay> {
    const connectStart = Date.now();
    const client = await RtmpClient.connect(url, clientOptions(options));
    const connectMs = Date.now() - connectStart;
    let subscriber: Subscriber;
    try {
      await withDeadline(client, client.publish(), options, 'publish');
      const sink = new RtmpSink(client.conn, client.streamId, 'push', () => client.close());
      const query = new URLSearchParams(options.audio === false ? { audio: '0' } : {});
      subscriber = this.registry.subscribe(streamPath, { protocol: 'rtmp-push', remoteAddress: client.conn.remoteAddress, query }, sink);
    } catch (error) {
      client.close();
      throw error;
    }
    this.events.emit('push_start', { streamPath, url, time: Date.now() });
    const done = new Promise<string>((resolve) =>
      client.once('close', (reason: string) => {
        this.registry.unsubscribe(subscriber, `push ended: ${reason}`);
        this.events.emit('push_end', { streamPath, url, time: Date.now(), reason });
        resolve(reason);
      }),
    );
    return this.track({ url, streamPath, done, rtt: () => connectMs, stop: () => client.close() });
  }

  onApplicationShutdown(): void {
    for (const relay of this.relays) relay.stop();
  }

  private track(relay: RtmpRelay): RtmpRelay {
    this.relays.add(relay);
    void relay.done.then((reason) => {
      this.relays.delete(relay);
      this.logger.log({ msg: 'relay ended', url: relay.url, streamPath: relay.streamPath, reason });
    });
    return relay;
  }
}

/** The RTMP client's options from the relay options (the proxy layer's `timeout` is the connect deadline). */
function clientOptions(options: RtmpRelayOptions): RtmpClientOptions {
  const { audio: _audio, transport: _transport, timeout, ...rest } = options;
  return { ...rest, timeoutMs: rest.timeoutMs ?? timeout };
}

/** A play or publish the remote never answers fails after the connect deadline (the connection is closed). */
async function withDeadline(client: RtmpClient, step: Promise<void>, options: RtmpRelayOptions, what: string): Promise<void> {
  const timeoutMs = options.timeoutMs ?? options.timeout ?? 10_000;
  const timer = setTimeout(() => client.conn.close(`${what} timeout`, new Error(`no answer to ${what} within ${timeoutMs} ms`)), timeoutMs);
  try {
    await step;
  } finally {
    clearTimeout(timer);
  }
}
