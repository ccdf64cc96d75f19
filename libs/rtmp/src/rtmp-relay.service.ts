import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { EngineEvents, Publisher, StreamRegistry, Subscriber } from '@m7s/core';
import { RtmpClient, RtmpClientOptions } from './rtmp-client';
import { RtmpIngest } from './rtmp-ingest';
import type { RtmpMessage } from './protocol';
import { RtmpSink } from './rtmp-sink';
import { splitQuery } from './rtmp-url';

/** Media messages kept while a pull's play is being confirmed. */
const MAX_EARLY_MESSAGES = 256;

/** A running pull or push; `done` settles when it ends, with the reason. */
export interface RtmpRelay {
  readonly url: string;
  readonly streamPath: string;
  readonly done: Promise<string>;
  stop(): void;
}

/**
 * Pulls `rtmp://` streams into local stream paths and pushes local streams to remote `rtmp://` servers.
 * Reconnection policy belongs to the proxy layer that calls this.
 */
@Injectable()
export class RtmpRelayService implements OnApplicationShutdown {
  private readonly logger = new Logger('RtmpRelay');
  private readonly relays = new Set<RtmpRelay>();

  constructor(
    private readonly registry: StreamRegistry,
    private readonly events: EngineEvents,
  ) {}

  /** Plays `url` and publishes what arrives as `streamPath`. Resolves once the remote play started. */
  async pull(url: string, streamPath: string, options: RtmpClientOptions = {}): Promise<RtmpRelay> {
    const client = await RtmpClient.connect(url, options);
    let publisher: Publisher | undefined;
    // Media that arrives with NetStream.Play.Start (nginx-rtmp sends the AAC sequence header right after it,
    // in the same read) is emitted before `play()` resolves: keep it, bounded, for the ingest.
    const early: RtmpMessage[] = [];
    const keep = (msg: RtmpMessage) => {
      if (early.length < MAX_EARLY_MESSAGES) early.push(msg);
    };
    client.on('media', keep);
    try {
      await client.play();
      publisher = this.registry.publish(streamPath, { protocol: 'rtmp-pull', remoteAddress: client.conn.remoteAddress, query: splitQuery(url).query });
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
    return this.track({ url, streamPath, done, stop: () => client.close() });
  }

  /** Publishes the local `streamPath` to `url`. Resolves once the remote accepted the publish. */
  async push(streamPath: string, url: string, options: RtmpClientOptions = {}): Promise<RtmpRelay> {
    const client = await RtmpClient.connect(url, options);
    let subscriber: Subscriber;
    try {
      await client.publish();
      const sink = new RtmpSink(client.conn, client.streamId, 'push', () => client.close());
      subscriber = this.registry.subscribe(streamPath, { protocol: 'rtmp-push', remoteAddress: client.conn.remoteAddress, query: new URLSearchParams() }, sink);
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
    return this.track({ url, streamPath, done, stop: () => client.close() });
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
