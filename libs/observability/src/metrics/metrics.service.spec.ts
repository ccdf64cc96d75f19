import { AVFrame, ConfigService, EngineEvents, loadConfig, Publisher, StreamError, StreamRegistry, SubscriberSink } from '@m7s/core';
import type { AudioConfig, VideoConfig } from '@m7s/media';
import { MetricsService } from './metrics.service';

const video: VideoConfig = { kind: 'video', codec: 'h264', record: Buffer.from([1]), parameterSets: [], width: 320, height: 240 };
const audio: AudioConfig = { kind: 'audio', codec: 'aac', record: Buffer.from([0x12, 0x10]), sampleRate: 44100, channels: 2 };
const info = (protocol: string) => ({ protocol, remoteAddress: '127.0.0.1:1', query: new URLSearchParams() });

/** A player that counts its bytes like the FLV sink does. */
class CountingSink implements SubscriberSink {
  bytesSent = 0;
  backlog() {
    return 0;
  }
  start() {}
  track() {}
  frame(frame: AVFrame) {
    this.bytesSent += frame.size;
  }
  publisherLeft() {
    return false;
  }
  end(_error: StreamError) {}
}

/** `seconds` of 25 fps video (1000-byte frames, a key frame each second) and 50 audio frames per second (200 bytes). */
function writeSeconds(publisher: Publisher, fromMs: number, seconds: number): void {
  for (let i = 0; i < seconds * 25; i++) {
    const t = fromMs + i * 40;
    publisher.writeVideo(t, t, i % 25 === 0, [Buffer.alloc(1000)]);
    publisher.writeAudio(t, Buffer.alloc(200));
    publisher.writeAudio(t + 20, Buffer.alloc(200));
  }
}

type Values = Map<string, number>;

/** Scrapes and returns every engine sample as `name{label=value,...}` -> value. */
async function scrape(metrics: MetricsService, now: number): Promise<Values> {
  await metrics.render(now);
  const values: Values = new Map();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    if (!metric.name.startsWith('m7s_')) continue;
    for (const v of metric.values) {
      const labels = Object.entries(v.labels)
        .map(([k, l]) => `${k}=${l}`)
        .join(',');
      values.set(labels ? `${metric.name}{${labels}}` : metric.name, v.value);
    }
  }
  return values;
}

describe('MetricsService', () => {
  let registry: StreamRegistry;
  let metrics: MetricsService;

  beforeEach(() => {
    const events = new EngineEvents();
    registry = new StreamRegistry(new ConfigService(loadConfig({ plugins: [], env: {} })), events);
    metrics = new MetricsService(registry, events);
  });

  afterEach(() => {
    registry.shutdown();
    metrics.onModuleDestroy();
  });

  it('computes fps and bitrate per track over the window from the counters', async () => {
    const publisher = registry.publish('live/a', info('rtmp'));
    publisher.setTrack(video);
    publisher.setTrack(audio);
    writeSeconds(publisher, 0, 10);
    const start = publisher.tracks.video!.createdAt;
    const m = await scrape(metrics, start + 10_000);
    expect(m.get('m7s_stream_fps{stream_path=live/a}')).toBeCloseTo(25, 6);
    expect(m.get('m7s_stream_bitrate_bps{stream_path=live/a,track=video}')).toBeCloseTo(25 * 1000 * 8, 6);
    // The audio track was created a moment after the video one: its window is that much shorter.
    const audioSeconds = (start + 10_000 - publisher.tracks.audio!.createdAt) / 1000;
    expect(m.get('m7s_stream_bitrate_bps{stream_path=live/a,track=audio}')).toBeCloseTo((10 * 50 * 200 * 8) / audioSeconds, 6);
    // Then twice the rate for the next 10 s: the window follows.
    for (let s = 0; s < 10; s++) {
      writeSeconds(publisher, 10_000 + s * 1000, 2);
      await scrape(metrics, start + 11_000 + s * 1000);
    }
    expect((await scrape(metrics, start + 20_000)).get('m7s_stream_fps{stream_path=live/a}')).toBeCloseTo(50, 6);
  });

  it('keeps byte and drop counters growing as sessions end, and drops the series of ended streams', async () => {
    const now = Date.now();
    const publisher = registry.publish('live/a', info('rtmp'));
    publisher.setTrack(video);
    publisher.setTrack(audio);
    writeSeconds(publisher, 0, 1);
    const playing = new CountingSink();
    const player = registry.subscribe('live/a', info('http-flv'), playing);
    // A player waiting on another path is counted as a player but has sent nothing worth counting yet.
    const waiting = new CountingSink();
    const waiter = registry.subscribe('live/b', info('http-flv'), waiting);
    waiting.bytesSent = 999;
    writeSeconds(publisher, 1000, 1);

    let m = await scrape(metrics, now);
    const inFirst = 25 * 1000 + 50 * 200;
    expect(m.get('m7s_streams')).toBe(1);
    expect(m.get('m7s_publishers{protocol=rtmp}')).toBe(1);
    expect(m.get('m7s_subscribers{protocol=http-flv}')).toBe(2);
    expect(m.get('m7s_stream_subscribers{stream_path=live/a}')).toBe(1);
    expect(m.get('m7s_stream_subscribers{stream_path=live/b}')).toBe(1);
    expect(m.get('m7s_stream_bytes_in_total{protocol=rtmp}')).toBe(2 * inFirst);
    expect(m.get('m7s_subscriber_bytes_out_total{protocol=http-flv}')).toBe(playing.bytesSent);
    expect(playing.bytesSent).toBeGreaterThan(inFirst);

    const sentBeforeLeaving = playing.bytesSent;
    registry.unsubscribe(player);
    registry.unsubscribe(waiter);
    m = await scrape(metrics, now);
    expect(m.get('m7s_subscriber_bytes_out_total{protocol=http-flv}')).toBe(sentBeforeLeaving);
    expect(m.get('m7s_subscribers{protocol=http-flv}')).toBe(0);
    expect(m.get('m7s_events_total{event=subscribe_end}')).toBe(1);

    publisher.close();
    m = await scrape(metrics, now);
    expect(m.get('m7s_stream_bytes_in_total{protocol=rtmp}')).toBe(2 * inFirst);
    expect(m.get('m7s_streams')).toBe(0);
    expect(m.get('m7s_publishers{protocol=rtmp}')).toBe(0);
    expect([...m.keys()].filter((k) => k.includes('stream_path=live/a}') || k.includes('stream_path=live/a,'))).toEqual([]);

    // A new publisher on the path adds to the total.
    const next = registry.publish('live/a', info('rtmp'));
    next.setTrack(video);
    next.setTrack(audio);
    writeSeconds(next, 0, 1);
    m = await scrape(metrics, now);
    expect(m.get('m7s_stream_bytes_in_total{protocol=rtmp}')).toBe(3 * inFirst);
  });
});
