import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ConfigService, EngineEvents, StreamError, StreamRegistry } from '@m7s/core';
import type { HlsConfig, HlsFormat } from './hls.config';
import { HlsLive } from './hls-live';
import type { HlsContainer } from './hls-path';

const SWEEP_MS = 1000;
/** Complete segments kept downloadable beyond the playlist window. */
const EXTRA_SEGMENTS = 2;

export function containerOf(format: HlsFormat): HlsContainer {
  return format === 'ts' ? 'ts' : 'fmp4';
}

/**
 * The live HLS muxers: one per (stream, container), created by the first request for a stream (or at publish
 * start for hls.alwaysOn paths) and dropped after hls.idleTimeout without a request.
 */
@Injectable()
export class HlsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Hls');
  private readonly lives = new Map<string, HlsLive>();
  private timer: NodeJS.Timeout | undefined;
  private offPublish: (() => void) | undefined;

  constructor(
    private readonly registry: StreamRegistry,
    private readonly config: ConfigService,
    private readonly events: EngineEvents,
  ) {}

  get settings(): HlsConfig {
    return this.config.section<HlsConfig>('hls');
  }

  onModuleInit(): void {
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
    this.offPublish = this.events.on('publish_start', (event) => {
      const patterns = this.settings.alwaysOn;
      if (!patterns.some((p) => new RegExp(p).test(event.streamPath))) return;
      // After the engine has finished setting up the publisher.
      setImmediate(() => {
        try {
          this.acquire(event.streamPath, containerOf(this.settings.format)).alwaysOn = true;
        } catch (error) {
          this.logger.warn({ msg: 'always-on HLS muxer not started', streamPath: event.streamPath, error: String(error) });
        }
      });
    });
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.offPublish?.();
    for (const live of [...this.lives.values()]) this.drop(live, 'shutdown');
  }

  /** The muxer of a (normalized) stream path, if one runs. */
  find(streamPath: string, container: HlsContainer): HlsLive | undefined {
    return this.lives.get(`${container}:${streamPath}`);
  }

  /** The muxer of a stream path, subscribed now when none runs. Throws the registry's StreamError (bad path, shutdown). */
  acquire(streamPath: string, container: HlsContainer): HlsLive {
    const key = `${container}:${streamPath}`;
    const existing = this.lives.get(key);
    if (existing) {
      existing.touch();
      return existing;
    }
    const { segmentDuration, partDuration, windowSize } = this.settings;
    const live = new HlsLive(streamPath, container, { segmentDuration, partDuration, windowSize, extraSegments: EXTRA_SEGMENTS });
    live.onEnd = () => {
      if (this.lives.get(key) === live) this.lives.delete(key);
    };
    this.lives.set(key, live);
    try {
      live.subscriber = this.registry.subscribe(streamPath, { protocol: 'hls', remoteAddress: 'hls', query: new URLSearchParams() }, live);
    } catch (error) {
      this.lives.delete(key);
      throw error;
    }
    this.logger.debug?.({ msg: 'HLS muxer started', streamPath, container });
    return live;
  }

  /** Muxers running now (for tests and metrics). */
  list(): HlsLive[] {
    return [...this.lives.values()];
  }

  private sweep(now = Date.now()): void {
    const idle = this.settings.idleTimeout;
    for (const live of [...this.lives.values()]) {
      if (!live.alwaysOn && now - live.lastRequest > idle) this.drop(live, 'no HLS request');
    }
  }

  private drop(live: HlsLive, reason: string): void {
    if (live.subscriber) this.registry.unsubscribe(live.subscriber, reason);
    live.end(new StreamError('STOPPED', `HLS muxer dropped: ${reason}`));
  }
}
