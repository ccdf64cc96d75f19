import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { WorkQueue } from '@m7s/core';
import { DataSource, DbConfig, openDatabase, TypeormJobStore } from '@m7s/persistence';
import { createTestDatabase, framesOf, freePort, killAllTracked, playHttpFlv, portAccepts, publishTestPattern, REDIS_URL, spawnTracked, startTestServer, stopTracked, TestServer, Tracked, waitFor } from '@m7s/test-kit';

const ROOT = join(__dirname, '../../..');

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: { id: string; event: string; time: string; node: string; [field: string]: unknown };
}

/** A webhook receiver on a fixed port that can be down (port reserved, nobody listening) or up. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  /** How to answer the next requests (then 200): a status, or 'hang' to never answer. */
  failNext: (number | 'hang')[] = [];
  private server?: Server;

  private constructor(readonly port: number) {}

  static async reserve(): Promise<Receiver> {
    return new Receiver(await freePort());
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async up(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const status = this.failNext.shift() ?? 200;
        if (status === 'hang') return;
        if (status === 200) this.deliveries.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  events(path: string, streamPath?: string): string[] {
    return this.deliveries.filter((d) => d.path === path && (!streamPath || d.body.streamPath === streamPath)).map((d) => d.body.event);
  }

  /** Every (path, event id) pair delivered more than once. */
  duplicates(): string[] {
    const seen = new Set<string>();
    const twice: string[] = [];
    for (const d of this.deliveries) {
      const key = `${d.path} ${d.body.id}`;
      if (seen.has(key)) twice.push(`${key} (${d.body.event})`);
      seen.add(key);
    }
    return twice;
  }
}

async function pendingWebhookJobs(queue: WorkQueue): Promise<number> {
  const c = await queue.counts('webhook');
  return c.waiting + c.delayed + c.active;
}

describe('webhooks', () => {
  const receivers: Receiver[] = [];
  const servers: TestServer[] = [];

  async function receiver(): Promise<Receiver> {
    const r = await Receiver.reserve();
    receivers.push(r);
    return r;
  }

  afterEach(async () => {
    await killAllTracked();
    for (const server of servers.splice(0)) await server.close();
    for (const r of receivers.splice(0)) await r.down();
  });

  it('delivers every event once after the receiver was down for 10 s', async () => {
    const hooks = await receiver();
    const server = await startTestServer({
      webhook: {
        // Per-event URLs only, so the finite stream events can be told apart from the periodic keep_alive.
        events: {
          publish_start: [hooks.url('/all'), hooks.url('/publish')],
          publish_end: [hooks.url('/all')],
          subscribe_start: [hooks.url('/all')],
          subscribe_end: [hooks.url('/all')],
          keep_alive: [hooks.url('/alive')],
        },
        backoff: '500ms',
        attempts: 30,
        timeout: '2s',
        keepAliveInterval: '1s',
      },
      queue: { pollInterval: '200ms' },
    });
    servers.push(server);
    const queue = server.app.get(WorkQueue);
    const downSince = Date.now();

    const publisher = publishTestPattern({ url: server.rtmpUrl('live/hooked') });
    const player = playHttpFlv(server.flvUrl('live/hooked'));
    await waitFor(() => framesOf(player).length > 5, 'the player to play', 20_000);
    player.close();
    await stopTracked(publisher);
    // publish_start twice, publish_end, subscribe_start, subscribe_end: waiting for the receiver.
    await waitFor(async () => (await pendingWebhookJobs(queue)) >= 5, 'the deliveries to be queued');
    await waitFor(() => Date.now() - downSince >= 10_000, 'the receiver to have been down for 10 s', 15_000, 200);
    expect(hooks.deliveries).toHaveLength(0);
    expect(await pendingWebhookJobs(queue)).toBeGreaterThanOrEqual(5);

    await hooks.up();
    await waitFor(() => hooks.events('/all').length >= 4 && hooks.events('/publish').length >= 1 && hooks.events('/alive').length >= 1, 'every event to arrive', 30_000);
    // Stop the server: nothing is delivered after this, so what arrived is all there will be.
    await server.close();
    servers.splice(0);

    expect(hooks.events('/all').sort()).toEqual(['publish_end', 'publish_start', 'subscribe_end', 'subscribe_start']);
    expect(hooks.events('/publish')).toEqual(['publish_start']);
    expect(hooks.duplicates()).toEqual([]);

    const byEvent = new Map(hooks.deliveries.filter((d) => d.path === '/all').map((d) => [d.body.event, d]));
    const publishStart = byEvent.get('publish_start')!;
    expect(publishStart.body).toMatchObject({ event: 'publish_start', streamPath: 'live/hooked', protocol: 'rtmp', node: expect.any(String) });
    expect(publishStart.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(publishStart.body.time).getTime()).toBeGreaterThanOrEqual(downSince);
    expect(publishStart.headers['content-type']).toBe('application/json');
    // It waited for the receiver: a later attempt got through.
    expect(Number(publishStart.headers['x-m7s-attempt'])).toBeGreaterThan(1);
    // The same event on both of its URLs carries the same id.
    expect(hooks.deliveries.find((d) => d.path === '/publish')!.body.id).toBe(publishStart.body.id);
    expect(byEvent.get('subscribe_end')!.body).toMatchObject({ protocol: 'http-flv', bytesSent: expect.any(Number), reason: expect.any(String) });
    expect(byEvent.get('publish_end')!.body).toMatchObject({ streamPath: 'live/hooked', reason: expect.any(String) });
    expect(hooks.deliveries.find((d) => d.path === '/alive')!.body).toMatchObject({ event: 'keep_alive', uptime: expect.any(Number), streams: expect.any(Number) });
  });

  it('retries a delivery the receiver answered with an error or not at all', async () => {
    const hooks = await receiver();
    await hooks.up();
    hooks.failNext = [500, 'hang', 503];
    const server = await startTestServer({ webhook: { urls: [hooks.url('/hook')], backoff: '200ms', attempts: 5, timeout: '500ms' } });
    servers.push(server);
    const publisher = publishTestPattern({ url: server.rtmpUrl('live/flaky') });
    await waitFor(() => hooks.events('/hook', 'live/flaky').includes('publish_start'), 'publish_start to get through on the fourth attempt', 20_000);
    await stopTracked(publisher);
    const delivery = hooks.deliveries.find((d) => d.body.event === 'publish_start')!;
    expect(delivery.headers['x-m7s-attempt']).toBe('4');
  });

  it('stores the events of a graceful shutdown and delivers them after the restart', async () => {
    const hooks = await receiver();
    const db = await createTestDatabase('sqlite');
    try {
      const config = { webhook: { urls: [hooks.url('/hook')], backoff: '200ms', attempts: 30 }, queue: { pollInterval: '200ms' } };
      const first = await startTestServer(config, { db });
      servers.push(first);
      const publisher = publishTestPattern({ url: first.rtmpUrl('live/graceful') });
      await waitFor(() => first.registry.get('live/graceful')?.publisher, 'the publisher', 20_000);
      // The engine ends the live stream while shutting down: publish_end is emitted then.
      await first.close();
      servers.splice(0);
      await stopTracked(publisher);
      expect(hooks.deliveries).toHaveLength(0);

      await hooks.up();
      const second = await startTestServer(config, { db });
      servers.push(second);
      await waitFor(() => hooks.events('/hook', 'live/graceful').length >= 2, 'publish_start and publish_end after the restart', 30_000);
      expect(hooks.events('/hook', 'live/graceful').sort()).toEqual(['publish_end', 'publish_start']);
      expect(hooks.deliveries.find((d) => d.body.event === 'publish_end')!.body.reason).toBe('SHUTDOWN');
    } finally {
      for (const server of servers.splice(0)) await server.close();
      await db.drop();
    }
  });

  it('runs the deliveries on BullMQ when redis.url is set', async () => {
    const prefix = `m7s-test-${process.pid}-${randomBytes(4).toString('hex')}`;
    const hooks = await receiver();
    await hooks.up();
    hooks.failNext = [500];
    try {
      const server = await startTestServer({ redis: { url: REDIS_URL, prefix }, webhook: { urls: [hooks.url('/hook')], backoff: '200ms', attempts: 5 } });
      servers.push(server);
      const redis = new Redis(REDIS_URL);
      try {
        const publisher = publishTestPattern({ url: server.rtmpUrl('live/redis') });
        await waitFor(() => hooks.events('/hook', 'live/redis').includes('publish_start'), 'publish_start through BullMQ', 20_000);
        // The job went through Redis under the configured prefix.
        expect((await redis.keys(`${prefix}:webhook:*`)).length).toBeGreaterThan(0);
        await stopTracked(publisher);
        await waitFor(() => hooks.events('/hook', 'live/redis').includes('publish_end'), 'publish_end through BullMQ', 20_000);
        expect(hooks.deliveries.find((d) => d.body.event === 'publish_start')!.headers['x-m7s-attempt']).toBe('2');
        expect(hooks.duplicates()).toEqual([]);
      } finally {
        await redis.quit();
      }
    } finally {
      for (const server of servers.splice(0)) await server.close();
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
  });

  describe('the server process killed with deliveries pending', () => {
    let dataDir: string;
    let dbPath: string;
    let db: DataSource | undefined;

    beforeAll(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'm7s-hook-proc-'));
      dbPath = join(dataDir, 'm7s.db');
    });

    afterAll(async () => {
      await killAllTracked();
      if (db?.isInitialized) await db.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    });

    async function startServerProcess(hooks: Receiver, http: number, rtmp: number): Promise<Tracked> {
      const server = spawnTracked(process.execPath, ['-r', '@swc-node/register', 'apps/server/src/main.ts'], {
        cwd: ROOT,
        env: {
          ...process.env,
          M7S_LOG__LEVEL: 'log',
          M7S_HTTP__LISTEN: `127.0.0.1:${http}`,
          M7S_RTMP__LISTEN: `127.0.0.1:${rtmp}`,
          M7S_RTMP__TLS__LISTEN: '',
          M7S_RTSP__LISTEN: `127.0.0.1:${await freePort()}`,
          M7S_RTSP__TLS__LISTEN: '',
          M7S_GRPC__LISTEN: `127.0.0.1:${await freePort()}`,
          M7S_DB__PATH: dbPath,
          M7S_AUTH__ADMINPASSWORD: 'process-test-password',
          M7S_WEBHOOK__URLS: JSON.stringify([hooks.url('/hook')]),
          M7S_WEBHOOK__BACKOFF: '500ms',
          M7S_WEBHOOK__ATTEMPTS: '30',
          M7S_WEBHOOK__KEEPALIVEINTERVAL: '0',
          M7S_QUEUE__POLLINTERVAL: '200ms',
          M7S_QUEUE__LOCKTIMEOUT: '2s',
        },
      });
      await waitFor(async () => server.child.exitCode !== null || ((await portAccepts(http)) && (await portAccepts(rtmp))), 'the server to listen', 30_000);
      if (server.child.exitCode !== null) throw new Error(`the server did not start: ${server.stderr()}`);
      return server;
    }

    it('delivers after a restart what was pending at the kill', async () => {
      const hooks = await receiver();
      const [http, rtmp] = [await freePort(), await freePort()];
      const first = await startServerProcess(hooks, http, rtmp);
      db = await openDatabase(Object.assign(new DbConfig(), { type: 'sqlite', path: dbPath }));
      const store = new TypeormJobStore(db);
      const pending = async () => {
        const c = await store.counts('webhook', Date.now());
        return c.waiting + c.delayed + c.active;
      };

      const publisher = publishTestPattern({ url: `rtmp://127.0.0.1:${rtmp}/live/killed` });
      const player = playHttpFlv(`http://127.0.0.1:${http}/flv/live/killed.flv`);
      await waitFor(() => framesOf(player).length > 5, 'the player to play', 20_000);
      player.close();
      // publish_start, subscribe_start, subscribe_end stored and failing against the closed port.
      await waitFor(async () => (await pending()) >= 3, 'three deliveries to be pending', 15_000);
      await waitFor(async () => (await db!.query(`SELECT COUNT(*) AS n FROM jobs WHERE queue = 'webhook' AND attempts > 0`))[0].n >= 3, 'the first attempts to fail', 15_000);

      const killedAt = Date.now();
      await stopTracked(first, 'SIGKILL');
      await stopTracked(publisher);
      expect(hooks.deliveries).toHaveLength(0);
      expect(await pending()).toBeGreaterThanOrEqual(3);

      await hooks.up();
      const second = await startServerProcess(hooks, http, rtmp);
      await waitFor(() => hooks.events('/hook', 'live/killed').length >= 3, 'the deliveries pending at the kill to arrive', 60_000);
      await waitFor(async () => (await pending()) === 0, 'the queue to drain', 30_000);
      second.child.kill('SIGTERM');
      await second.exited;

      expect(hooks.events('/hook', 'live/killed').sort()).toEqual(['publish_start', 'subscribe_end', 'subscribe_start']);
      expect(hooks.duplicates()).toEqual([]);
      for (const d of hooks.deliveries) expect(new Date(d.body.time).getTime()).toBeLessThan(killedAt);
    });
  });
});
