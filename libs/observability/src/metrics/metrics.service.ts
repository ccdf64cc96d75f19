import { Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { EngineEventMap, EngineEvents, Publisher, QueueCounts, StreamRegistry, Track, WorkQueue } from '@m7s/core';
import { RateWindow } from './rate-window';

const ENGINE_EVENTS: readonly (keyof EngineEventMap)[] = [
  'publish_start',
  'publish_end',
  'subscribe_start',
  'subscribe_end',
  'stream_close',
  'pull_start',
  'pull_end',
  'push_start',
  'push_end',
];
const QUEUE_STATES: readonly (keyof QueueCounts)[] = ['waiting', 'active', 'delayed', 'completed', 'failed'];
const QUEUE_COUNTS_TIMEOUT_MS = 2000;

interface TrackRates {
  bytes: RateWindow;
  frames: RateWindow;
}

/** Adds `value` to the entry of `key`. */
function add(totals: Map<string, number>, key: string, value: number): void {
  totals.set(key, (totals.get(key) ?? 0) + value);
}

/**
 * Prometheus metrics of the process, the engine and the work queues, in a registry of its own. Engine
 * values are read from the stream registry at scrape time (nothing on the media path); the byte and
 * drop counters add what ended sessions had, kept from publish_end / subscribe_end, so they never go down.
 */
@Injectable()
export class MetricsService implements OnModuleDestroy {
  private readonly logger = new Logger('Metrics');
  readonly registry = new Registry();
  /** Publishers seen at publish_start, until publish_end settles their bytes. */
  private readonly livePublishers = new Map<string, Publisher>();
  private readonly endedBytesIn = new Map<string, number>();
  private readonly endedBytesOut = new Map<string, number>();
  private readonly endedDrops = new Map<string, number>();
  /** Protocols seen so far: their session gauges stay (at 0) when their last session ends. */
  private readonly publisherProtocols = new Set<string>();
  private readonly subscriberProtocols = new Set<string>();
  private readonly rates = new WeakMap<Track, TrackRates>();
  private readonly detach: (() => void)[] = [];

  private readonly streams = new Gauge({ name: 'm7s_streams', help: 'Streams being published', registers: [this.registry] });
  private readonly publishers = new Gauge({ name: 'm7s_publishers', help: 'Publishers by protocol', labelNames: ['protocol'], registers: [this.registry] });
  private readonly subscribers = new Gauge({
    name: 'm7s_subscribers',
    help: 'Players (playing or waiting for a publisher) by protocol',
    labelNames: ['protocol'],
    registers: [this.registry],
  });
  private readonly bytesIn = new Counter({
    name: 'm7s_stream_bytes_in_total',
    help: 'Media payload bytes received from publishers, by the publisher protocol',
    labelNames: ['protocol'],
    registers: [this.registry],
  });
  private readonly bytesOut = new Counter({
    name: 'm7s_subscriber_bytes_out_total',
    help: 'Bytes sent to players, by protocol',
    labelNames: ['protocol'],
    registers: [this.registry],
  });
  private readonly droppedFrames = new Counter({
    name: 'm7s_dropped_frames_total',
    help: 'Frames skipped for slow players, by protocol',
    labelNames: ['protocol'],
    registers: [this.registry],
  });
  private readonly streamBitrate = new Gauge({
    name: 'm7s_stream_bitrate_bps',
    help: 'Media payload bitrate of a live stream over the last 10 s, per track',
    labelNames: ['stream_path', 'track'],
    registers: [this.registry],
  });
  private readonly streamFps = new Gauge({
    name: 'm7s_stream_fps',
    help: 'Video frames per second of a live stream over the last 10 s',
    labelNames: ['stream_path'],
    registers: [this.registry],
  });
  private readonly streamSubscribers = new Gauge({
    name: 'm7s_stream_subscribers',
    help: 'Players of a stream',
    labelNames: ['stream_path'],
    registers: [this.registry],
  });
  private readonly queueJobs = new Gauge({
    name: 'm7s_queue_jobs',
    help: 'Jobs of a work queue by state',
    labelNames: ['queue', 'state'],
    registers: [this.registry],
  });
  private readonly eventsTotal = new Counter({
    name: 'm7s_events_total',
    help: 'Engine events emitted, by name',
    labelNames: ['event'],
    registers: [this.registry],
  });

  constructor(
    private readonly streamRegistry: StreamRegistry,
    events: EngineEvents,
    @Optional() private readonly workQueue?: WorkQueue,
  ) {
    collectDefaultMetrics({ register: this.registry });
    for (const name of ENGINE_EVENTS) {
      this.eventsTotal.inc({ event: name }, 0);
      this.detach.push(events.on(name, () => this.eventsTotal.inc({ event: name })));
    }
    this.detach.push(
      events.on('publish_start', (e) => {
        const publisher = this.streamRegistry.get(e.streamPath)?.publisher;
        if (publisher?.id === e.publisherId) this.livePublishers.set(publisher.id, publisher);
      }),
      events.on('publish_end', (e) => {
        const publisher = this.livePublishers.get(e.publisherId);
        if (!publisher) return;
        this.livePublishers.delete(e.publisherId);
        add(this.endedBytesIn, e.protocol, publisher.bytesReceived);
      }),
      events.on('subscribe_end', (e) => {
        add(this.endedBytesOut, e.protocol, e.bytesSent);
        add(this.endedDrops, e.protocol, e.droppedFrames);
      }),
    );
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text of every metric, engine values read now. */
  async render(now = Date.now()): Promise<string> {
    const queueCounts = await this.readQueues();
    this.setQueueGauges(queueCounts);
    this.setEngineMetrics(now);
    return this.registry.metrics();
  }

  onModuleDestroy(): void {
    for (const off of this.detach.splice(0)) off();
    this.registry.clear();
  }

  private setEngineMetrics(now: number): void {
    const publishers = new Map<string, number>();
    const subscribers = new Map<string, number>();
    const bytesOut = new Map(this.endedBytesOut);
    const drops = new Map(this.endedDrops);
    const bytesIn = new Map(this.endedBytesIn);
    for (const publisher of this.livePublishers.values()) add(bytesIn, publisher.info.protocol, publisher.bytesReceived);

    let liveStreams = 0;
    this.streamBitrate.reset();
    this.streamFps.reset();
    this.streamSubscribers.reset();
    for (const stream of this.streamRegistry.list()) {
      this.streamSubscribers.set({ stream_path: stream.path }, stream.subscribers.size);
      for (const subscriber of stream.subscribers) {
        const protocol = subscriber.info.protocol;
        add(subscribers, protocol, 1);
        // A player counts from its start: subscribe_end (which settles its totals) comes only for started ones.
        if (subscriber.starts === 0) continue;
        add(bytesOut, protocol, subscriber.bytesSent);
        add(drops, protocol, subscriber.droppedFrames);
      }
      const publisher = stream.publisher;
      if (!publisher) continue;
      liveStreams++;
      add(publishers, publisher.info.protocol, 1);
      for (const track of [publisher.tracks.video, publisher.tracks.audio]) {
        if (!track) continue;
        const rates = this.ratesOf(track);
        this.streamBitrate.set({ stream_path: stream.path, track: track.kind }, rates.bytes.rate(now, track.bytes) * 8);
        if (track.kind === 'video') this.streamFps.set({ stream_path: stream.path }, rates.frames.rate(now, track.frames));
      }
    }

    this.streams.set(liveStreams);
    this.setSessionGauge(this.publishers, this.publisherProtocols, publishers);
    this.setSessionGauge(this.subscribers, this.subscriberProtocols, subscribers);
    this.setCounter(this.bytesIn, bytesIn);
    this.setCounter(this.bytesOut, bytesOut);
    this.setCounter(this.droppedFrames, drops);
  }

  private ratesOf(track: Track): TrackRates {
    let rates = this.rates.get(track);
    if (!rates) {
      rates = { bytes: new RateWindow(track.createdAt), frames: new RateWindow(track.createdAt) };
      this.rates.set(track, rates);
    }
    return rates;
  }

  private setSessionGauge(gauge: Gauge<'protocol'>, seen: Set<string>, counts: Map<string, number>): void {
    for (const protocol of counts.keys()) seen.add(protocol);
    for (const protocol of seen) gauge.set({ protocol }, counts.get(protocol) ?? 0);
  }

  /** A counter whose total is computed at scrape time. */
  private setCounter(counter: Counter<'protocol'>, totals: Map<string, number>): void {
    counter.reset();
    for (const [protocol, total] of totals) counter.inc({ protocol }, total);
  }

  private async readQueues(): Promise<Map<string, QueueCounts>> {
    const result = new Map<string, QueueCounts>();
    if (!this.workQueue) return result;
    const queue = this.workQueue;
    let names: string[];
    try {
      names = queue.queueNames();
    } catch (error) {
      this.logger.warn({ msg: 'queue names unavailable', error: String(error) });
      return result;
    }
    await Promise.all(
      names.map(async (name) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${QUEUE_COUNTS_TIMEOUT_MS} ms`)), QUEUE_COUNTS_TIMEOUT_MS);
          });
          result.set(name, await Promise.race([queue.counts(name), timeout]));
        } catch (error) {
          this.logger.warn({ msg: 'queue counts unavailable', queue: name, error: error instanceof Error ? error.message : String(error) });
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return result;
  }

  private setQueueGauges(counts: Map<string, QueueCounts>): void {
    this.queueJobs.reset();
    for (const [queue, c] of counts) {
      for (const state of QUEUE_STATES) this.queueJobs.set({ queue, state }, c[state]);
    }
  }
}
