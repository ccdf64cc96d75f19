import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { WorkQueue } from '@m7s/core';
import {
  freePort,
  framesOf,
  killAllTracked,
  playHttpFlv,
  playRtmp,
  publishTestPattern,
  REDIS_URL,
  startTestServer,
  stopTracked,
  TEST_ADMIN,
  TestPlayer,
  TestServer,
  Tracked,
  waitFor,
} from '@m7s/test-kit';

// Prometheus text exposition format 0.0.4, line by line. Prometheus reads values with Go's ParseFloat, which
// takes NaN and Inf in any case (prom-client writes "Nan").
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const NUMBER = '(?:[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?|[-+]?[Ii][Nn][Ff]|[Nn][Aa][Nn])';
const HELP_LINE = new RegExp(`^# HELP (${NAME}) .*$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(\\{(?:${LABEL}(?:,${LABEL})*)?,?\\})? (${NUMBER})(?: -?\\d+)?$`);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the exposition text, failing on any line the format does not allow. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = TYPE_LINE.exec(line);
    if (type) {
      types.set(type[1], type[2]);
      continue;
    }
    if (HELP_LINE.test(line)) continue;
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new Error(`not a valid exposition line: ${JSON.stringify(line)}`);
    const family = types.has(sample[1]) ? sample[1] : sample[1].replace(/_(bucket|sum|count)$/, '');
    if (!types.has(family)) throw new Error(`sample of ${sample[1]} without a # TYPE line before it`);
    const labels: Record<string, string> = {};
    for (const m of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]] = m[2];
    samples.push({ name: sample[1], labels, value: Number(sample[3]) });
  }
  return { samples, types };
}

class Scrape {
  constructor(
    readonly samples: Sample[],
    readonly types: Map<string, string>,
  ) {}

  /** The samples of a metric whose labels include `labels`. */
  find(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The value of the one sample matching, or undefined. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const found = this.find(name, labels);
    if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
    return found[0]?.value;
  }
}

async function scrape(server: TestServer): Promise<Scrape> {
  const res = await fetch(`${server.httpUrl}/api/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const { samples, types } = parseExposition(await res.text());
  return new Scrape(samples, types);
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('observability: Prometheus metrics', () => {
  const PATH = 'live/metrics';
  let server: TestServer;
  let publisher: Tracked;
  const players: TestPlayer[] = [];

  beforeAll(async () => {
    const deadHook = `http://127.0.0.1:${await freePort()}/hook`;
    server = await startTestServer({ webhook: { urls: [deadHook], backoff: '1m' } });
    // The kit's test pattern: 320x240 H.264 at 25 fps, 500 kb/s, with 64 kb/s AAC.
    publisher = publishTestPattern({ url: server.rtmpUrl(PATH) });
    await waitFor(() => server.registry.get(PATH)?.isReady, 'the published stream', 20_000);
  });

  afterAll(async () => {
    for (const p of players) p.close();
    await killAllTracked();
    await server?.close();
  });

  it('is valid exposition text with process, engine and event metrics', async () => {
    const m = await scrape(server);
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes']) {
      expect(m.find(name).length).toBeGreaterThan(0);
    }
    expect(m.types.get('m7s_streams')).toBe('gauge');
    expect(m.types.get('m7s_stream_bytes_in_total')).toBe('counter');
    expect(m.types.get('m7s_subscriber_bytes_out_total')).toBe('counter');
    expect(m.types.get('m7s_dropped_frames_total')).toBe('counter');
    expect(m.types.get('m7s_events_total')).toBe('counter');
    expect(m.value('m7s_events_total', { event: 'publish_start' })).toBe(1);
    expect(m.value('m7s_events_total', { event: 'publish_end' })).toBe(0);
    expect(m.value('m7s_streams')).toBe(1);
    expect(m.value('m7s_publishers', { protocol: 'rtmp' })).toBe(1);
  });

  it('reports the jobs of every queue by state', async () => {
    // The webhook of publish_start cannot be delivered: its job waits a minute for its next attempt.
    const m = await waitFor(async () => {
      const scraped = await scrape(server);
      return (scraped.value('m7s_queue_jobs', { queue: 'webhook', state: 'delayed' }) ?? 0) >= 1 ? scraped : undefined;
    }, 'a delayed webhook job');
    const workQueue = server.app.get(WorkQueue);
    expect(workQueue.queueNames()).toContain('webhook');
    for (const queue of workQueue.queueNames()) {
      const counts = await workQueue.counts(queue);
      for (const state of ['waiting', 'active', 'delayed', 'completed', 'failed'] as const) {
        expect(m.value('m7s_queue_jobs', { queue, state })).toBe(counts[state]);
      }
    }
  });

  it('counts players per protocol, bytes in and out, bitrate and fps of the stream', async () => {
    const flv = playHttpFlv(server.flvUrl(PATH));
    const rtmp = await playRtmp(server.rtmpUrl(PATH));
    players.push(flv, rtmp);
    await waitFor(() => framesOf(flv).length > 0 && framesOf(rtmp).length > 0, 'both players to get video');
    // Rates are taken over the last 10 s: let the stream run a few seconds first.
    await waitFor(() => (server.registry.get(PATH)?.publisher?.tracks.video?.frames ?? 0) >= 125, '5 s of video', 20_000);

    const first = await scrape(server);
    expect(first.value('m7s_streams')).toBe(1);
    expect(first.value('m7s_subscribers', { protocol: 'http-flv' })).toBe(1);
    expect(first.value('m7s_subscribers', { protocol: 'rtmp' })).toBe(1);
    expect(first.value('m7s_stream_subscribers', { stream_path: PATH })).toBe(2);
    expect(first.value('m7s_events_total', { event: 'subscribe_start' })).toBe(2);

    const fps = first.value('m7s_stream_fps', { stream_path: PATH })!;
    expect(fps).toBeGreaterThanOrEqual(22);
    expect(fps).toBeLessThanOrEqual(28);
    const videoBps = first.value('m7s_stream_bitrate_bps', { stream_path: PATH, track: 'video' })!;
    expect(videoBps).toBeGreaterThan(50_000);
    expect(videoBps).toBeLessThan(10_000_000);
    // AAC at 64 kb/s.
    const audioBps = first.value('m7s_stream_bitrate_bps', { stream_path: PATH, track: 'audio' })!;
    expect(audioBps).toBeGreaterThan(32_000);
    expect(audioBps).toBeLessThan(128_000);

    // The server counted at least what the players received (it also counts framing: HTTP chunks, RTMP chunk headers).
    expect(first.value('m7s_subscriber_bytes_out_total', { protocol: 'http-flv' })).toBeGreaterThanOrEqual(flv.bytes);
    expect(first.value('m7s_subscriber_bytes_out_total', { protocol: 'rtmp' })).toBeGreaterThanOrEqual(rtmp.bytes);
    expect(first.value('m7s_dropped_frames_total', { protocol: 'http-flv' })).toBe(0);

    const flvBytes = flv.bytes;
    const rtmpBytes = rtmp.bytes;
    await waitFor(() => flv.bytes > flvBytes + 20_000 && rtmp.bytes > rtmpBytes + 20_000, 'more bytes to reach both players');
    const second = await scrape(server);
    for (const [name, labels] of [
      ['m7s_stream_bytes_in_total', { protocol: 'rtmp' }],
      ['m7s_subscriber_bytes_out_total', { protocol: 'http-flv' }],
      ['m7s_subscriber_bytes_out_total', { protocol: 'rtmp' }],
    ] as const) {
      expect(second.value(name, labels)).toBeGreaterThan(first.value(name, labels)! + 20_000);
    }

    // The FLV player leaves: its bytes stay counted.
    const beforeLeaving = second.value('m7s_subscriber_bytes_out_total', { protocol: 'http-flv' })!;
    flv.close();
    const afterLeaving = await waitFor(async () => {
      const m = await scrape(server);
      return m.value('m7s_subscribers', { protocol: 'http-flv' }) === 0 ? m : undefined;
    }, 'the FLV player to be gone');
    expect(afterLeaving.value('m7s_subscriber_bytes_out_total', { protocol: 'http-flv' })).toBeGreaterThanOrEqual(beforeLeaving);
    expect(afterLeaving.value('m7s_subscriber_bytes_out_total', { protocol: 'http-flv' })).toBeGreaterThanOrEqual(flv.bytes);
    expect(afterLeaving.value('m7s_stream_subscribers', { stream_path: PATH })).toBe(1);
    expect(afterLeaving.value('m7s_events_total', { event: 'subscribe_end' })).toBe(1);
  });

  it('keeps the byte counters and drops the series of the stream once it ends', async () => {
    const before = await scrape(server);
    players.forEach((p) => p.close());
    await stopTracked(publisher);
    const after = await waitFor(async () => {
      const m = await scrape(server);
      return m.value('m7s_streams') === 0 && m.value('m7s_subscribers', { protocol: 'rtmp' }) === 0 ? m : undefined;
    }, 'the stream and its players to end');
    for (const [name, labels] of [
      ['m7s_stream_bytes_in_total', { protocol: 'rtmp' }],
      ['m7s_subscriber_bytes_out_total', { protocol: 'http-flv' }],
      ['m7s_subscriber_bytes_out_total', { protocol: 'rtmp' }],
    ] as const) {
      expect(after.value(name, labels)).toBeGreaterThanOrEqual(before.value(name, labels)!);
    }
    expect(after.value('m7s_publishers', { protocol: 'rtmp' })).toBe(0);
    expect(after.value('m7s_events_total', { event: 'publish_end' })).toBe(1);
    expect(after.find('m7s_stream_bitrate_bps', { stream_path: PATH })).toEqual([]);
    expect(after.find('m7s_stream_fps', { stream_path: PATH })).toEqual([]);
  });
});

describe('observability: health', () => {
  const servers: TestServer[] = [];
  const redisPrefix = `m7s-t-obs-${randomBytes(4).toString('hex')}`;

  afterAll(async () => {
    for (const s of servers) await s.close();
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${redisPrefix}*`);
      if (keys.length) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });

  async function start(overrides: Record<string, unknown> = {}): Promise<TestServer> {
    const server = await startTestServer(overrides);
    servers.push(server);
    return server;
  }

  it('answers liveness, and readiness with the database', async () => {
    const server = await start({ metrics: { enable: false } });
    expect(await getJson(`${server.httpUrl}/api/health`)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await getJson(`${server.httpUrl}/api/health/ready`)).toEqual({ status: 200, body: { status: 'ok', checks: { db: 'up' } } });
    // metrics.enable: false
    expect((await fetch(`${server.httpUrl}/api/metrics`)).status).toBe(404);
  });

  it('serves metrics only to a token with the metrics permission when metrics.public is false', async () => {
    const server = await start({ metrics: { public: false } });
    const url = `${server.httpUrl}/api/metrics`;
    const anonymous = await getJson(url);
    expect(anonymous).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    expect((await fetch(url, { headers: { authorization: 'Bearer not-a-token' } })).status).toBe(401);

    const login = await fetch(`${server.httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(TEST_ADMIN),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const res = await fetch(url, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(res.status).toBe(200);
    const { samples } = parseExposition(await res.text());
    expect(samples.find((s) => s.name === 'm7s_streams')?.value).toBe(0);
    // Health stays public.
    expect((await getJson(`${server.httpUrl}/api/health/ready`)).status).toBe(200);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const server = servers[0] ?? (await start());
    const doc = (await getJson(`${server.httpUrl}/api/docs-json`)).body as { paths: Record<string, Record<string, { tags?: string[] }>> };
    for (const path of ['/api/metrics', '/api/health', '/api/health/ready']) {
      expect(doc.paths[path]?.get?.tags).toEqual(['observability']);
    }
    expect(Object.keys(doc.paths['/api/health/ready'].get)).toEqual(expect.arrayContaining(['responses']));
  });

  it('is not ready while Redis does not answer, and ready with it', async () => {
    const closedPort = await freePort();
    const down = await start({ redis: { url: `redis://127.0.0.1:${closedPort}`, prefix: redisPrefix } });
    const notReady = await getJson(`${down.httpUrl}/api/health/ready`);
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({ status: 'error', checks: { db: 'up', redis: 'down' } });
    expect((notReady.body.errors as Record<string, string>).redis).toMatch(/ECONNREFUSED/);
    // Still live.
    expect((await getJson(`${down.httpUrl}/api/health`)).status).toBe(200);

    const up = await start({ redis: { url: REDIS_URL, prefix: redisPrefix } });
    for (let i = 0; i < 3; i++) {
      // The same connection serves every check.
      expect(await getJson(`${up.httpUrl}/api/health/ready`)).toEqual({ status: 200, body: { status: 'ok', checks: { db: 'up', redis: 'up' } } });
    }
  });
});
