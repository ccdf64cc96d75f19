import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BullmqWorkQueue, EmbeddedWorkQueue, JobContext, JobHandlerFn, WorkQueue } from '@m7s/core';
import { DataSource, DbConfig, openDatabase, TypeormJobStore } from '@m7s/persistence';
import { createTestDatabase, REDIS_URL, TEST_DB_KINDS, TestDatabase, waitFor } from '@m7s/test-kit';

/** One way to build drivers that share their jobs (one database, or one Redis prefix). */
interface DriverKit {
  /** A new driver on the shared store; `ownConnection` gives it its own database connection, like another process. */
  make(ownConnection?: boolean): Promise<WorkQueue>;
  cleanup(): Promise<void>;
}

const KEEP_FINISHED = 10 * 60_000;

function embeddedKit(kind: TestDatabase['kind']): () => Promise<DriverKit & { store: TypeormJobStore }> {
  return async () => {
    const db = await createTestDatabase(kind);
    const sources: DataSource[] = [];
    const open = async () => {
      const source = await openDatabase(Object.assign(new DbConfig(), db.config));
      sources.push(source);
      return source;
    };
    const shared = await open();
    return {
      store: new TypeormJobStore(shared),
      make: async (ownConnection = false) =>
        new EmbeddedWorkQueue(new TypeormJobStore(ownConnection ? await open() : shared), { concurrency: 4, pollInterval: 100, lockTimeout: 1000, keepFinished: KEEP_FINISHED }),
      cleanup: async () => {
        for (const source of sources) if (source.isInitialized) await source.destroy();
        await db.drop();
      },
    };
  };
}

function bullmqKit(): () => Promise<DriverKit> {
  return async () => {
    const prefix = `m7s-test-${process.pid}-${randomBytes(4).toString('hex')}`;
    return {
      make: async () => new BullmqWorkQueue({ url: REDIS_URL, prefix, concurrency: 4, keepFinished: KEEP_FINISHED }),
      cleanup: async () => {
        const redis = new Redis(REDIS_URL);
        try {
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
            cursor = next;
            if (keys.length) await redis.del(...keys);
          } while (cursor !== '0');
        } finally {
          await redis.quit();
        }
      },
    };
  };
}

const DRIVERS: [string, () => Promise<DriverKit>][] = [
  ...TEST_DB_KINDS.map((kind): [string, () => Promise<DriverKit>] => [`embedded on ${kind}`, embeddedKit(kind)]),
  ['BullMQ on Redis', bullmqKit()],
];

describe.each(DRIVERS)('work queue contract: %s', (_name, makeKit) => {
  let kit: DriverKit;
  const open: WorkQueue[] = [];
  let queueSeq = 0;
  const queueName = () => `q${++queueSeq}-${randomBytes(3).toString('hex')}`;

  /** A started driver with one handler. */
  async function worker(queue: string, handler: JobHandlerFn, concurrency?: number, ownConnection = false): Promise<WorkQueue> {
    const driver = await kit.make(ownConnection);
    open.push(driver);
    driver.register(queue, handler, { concurrency });
    await driver.start();
    return driver;
  }

  beforeAll(async () => {
    if (!process.env.M7S_TEST_LOG) Logger.overrideLogger(['error']);
    kit = await makeKit();
  });

  afterEach(async () => {
    for (const driver of open.splice(0)) await driver.close();
  });

  afterAll(async () => {
    await kit.cleanup();
  });

  it('runs a job with its payload and tells the handler its id, queue and attempt', async () => {
    const queue = queueName();
    const seen: [unknown, JobContext][] = [];
    const driver = await worker(queue, (payload, job) => void seen.push([payload, job]));
    const id = await driver.add(queue, { hello: 'world', n: 1 });
    await waitFor(() => seen.length === 1, 'the job to run');
    expect(seen[0]).toEqual([{ hello: 'world', n: 1 }, { id, queue, attempt: 1 }]);
    await waitFor(async () => (await driver.counts(queue)).completed === 1, 'the job to count as completed');
    expect(driver.queueNames()).toEqual([queue]);
  });

  it('retries a failing job with exponential backoff until it succeeds', async () => {
    const queue = queueName();
    const runs: number[] = [];
    const driver = await worker(queue, (_payload, job) => {
      runs.push(Date.now());
      if (job.attempt < 3) throw new Error(`failure ${job.attempt}`);
    });
    await driver.add(queue, {}, { attempts: 5, backoff: { type: 'exponential', delay: 300 } });
    await waitFor(async () => (await driver.counts(queue)).completed === 1, 'the job to succeed on its third attempt', 20_000);
    expect(runs).toHaveLength(3);
    expect(runs[1] - runs[0]).toBeGreaterThanOrEqual(290);
    expect(runs[2] - runs[1]).toBeGreaterThanOrEqual(590);
  });

  it('waits the same time between attempts with fixed backoff', async () => {
    const queue = queueName();
    const runs: number[] = [];
    const driver = await worker(queue, (_payload, job) => {
      runs.push(Date.now());
      if (job.attempt < 3) throw new Error('not yet');
    });
    await driver.add(queue, {}, { attempts: 3, backoff: { type: 'fixed', delay: 300 } });
    await waitFor(async () => (await driver.counts(queue)).completed === 1, 'the job to succeed', 20_000);
    expect(runs).toHaveLength(3);
    expect(runs[1] - runs[0]).toBeGreaterThanOrEqual(290);
    expect(runs[2] - runs[1]).toBeGreaterThanOrEqual(290);
    expect(runs[2] - runs[1]).toBeLessThan(590);
  });

  it('gives a job up as failed after its attempts', async () => {
    const queue = queueName();
    let runs = 0;
    const driver = await worker(queue, () => {
      runs++;
      throw new Error('always');
    });
    await driver.add(queue, {}, { attempts: 3, backoff: { type: 'fixed', delay: 50 } });
    await waitFor(async () => (await driver.counts(queue)).failed === 1, 'the job to fail', 20_000);
    expect(runs).toBe(3);
    expect(await driver.counts(queue)).toMatchObject({ waiting: 0, active: 0, delayed: 0, completed: 0, failed: 1 });
  });

  it('runs a delayed job no earlier than its delay', async () => {
    const queue = queueName();
    let ranAt = 0;
    const driver = await worker(queue, () => void (ranAt = Date.now()));
    const addedAt = Date.now();
    await driver.add(queue, {}, { delay: 800 });
    expect((await driver.counts(queue)).delayed).toBe(1);
    await waitFor(() => ranAt > 0, 'the delayed job to run', 10_000);
    expect(ranAt - addedAt).toBeGreaterThanOrEqual(800);
  });

  it('adds a job id only once, while queued and after it finished', async () => {
    const queue = queueName();
    const ran: string[] = [];
    const driver = await worker(queue, (payload) => void ran.push((payload as { name: string }).name));
    const ids = await Promise.all([driver.add(queue, { name: 'first' }, { jobId: 'order:42' }), driver.add(queue, { name: 'second' }, { jobId: 'order:42' })]);
    expect(ids).toEqual(['order:42', 'order:42']);
    await waitFor(() => ran.length === 1, 'the job to run');
    await waitFor(async () => (await driver.counts(queue)).completed === 1, 'the job to be completed');
    await driver.add(queue, { name: 'third' }, { jobId: 'order:42' });
    await driver.add(queue, { name: 'marker' }, { jobId: '7' });
    await waitFor(() => ran.includes('marker'), 'a later job to run');
    expect(ran.filter((name) => name !== 'marker')).toHaveLength(1);
  });

  it('counts waiting, active, delayed, completed and failed jobs', async () => {
    const queue = queueName();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const driver = await worker(
      queue,
      async (payload) => {
        if ((payload as { fail?: boolean }).fail) throw new Error('bad job');
        await gate;
      },
      1,
    );
    for (let i = 0; i < 3; i++) await driver.add(queue, { i });
    await driver.add(queue, { later: true }, { delay: 60_000 });
    await waitFor(async () => {
      const c = await driver.counts(queue);
      return c.active === 1 && c.waiting === 2 && c.delayed === 1;
    }, 'one job active, two waiting, one delayed');
    release();
    await driver.add(queue, { fail: true });
    await waitFor(async () => {
      const c = await driver.counts(queue);
      return c.completed === 3 && c.failed === 1 && c.active === 0 && c.waiting === 0 && c.delayed === 1;
    }, 'three completed, one failed, one still delayed');
  });

  it('keeps a pending job across a driver restart and runs it on the new driver', async () => {
    const queue = queueName();
    const ranOnFirst: string[] = [];
    const first = await worker(queue, (payload) => void ranOnFirst.push(payload as string));
    await first.add(queue, 'delayed', { delay: 700 });
    await first.stop();
    await first.add(queue, 'added while stopped');
    await first.close();
    expect(ranOnFirst).toEqual([]);

    const ranOnSecond: string[] = [];
    await worker(queue, (payload) => void ranOnSecond.push(payload as string));
    await waitFor(() => ranOnSecond.length === 2, 'both stored jobs to run on the new driver', 15_000);
    expect(ranOnSecond.sort()).toEqual(['added while stopped', 'delayed']);
    expect(ranOnFirst).toEqual([]);
  });

  it('never runs one job on two consumers sharing the store', async () => {
    const queue = queueName();
    const producer = await kit.make(true);
    open.push(producer);
    const total = 60;
    for (let i = 0; i < total; i++) await producer.add(queue, i);
    const runs: { consumer: string; job: number }[] = [];
    const handler = (consumer: string) => async (payload: unknown) => {
      runs.push({ consumer, job: payload as number });
      await new Promise((resolve) => setImmediate(resolve));
    };
    const consumers = [await kit.make(true), await kit.make(true)];
    open.push(...consumers);
    consumers.forEach((consumer, i) => consumer.register(queue, handler(`consumer ${i}`), { concurrency: 4 }));
    // Started in the same tick, so both look at the same due jobs and race for them.
    await Promise.all(consumers.map((consumer) => consumer.start()));
    await waitFor(async () => (await producer.counts(queue)).completed === total, 'every job to complete', 30_000);
    const jobs = runs.map((r) => r.job);
    expect(new Set(jobs).size).toBe(total);
    expect(jobs).toHaveLength(total);
  });
});

describe.each(TEST_DB_KINDS)('embedded work queue on %s: a crashed worker', (kind) => {
  let kit: DriverKit & { store: TypeormJobStore };
  let driver: WorkQueue | undefined;

  beforeAll(async () => {
    kit = await embeddedKit(kind)();
  });

  afterAll(async () => {
    await driver?.close();
    await kit.cleanup();
  });

  it('runs again a job whose claim ran out (its process died while running it)', async () => {
    const now = Date.now();
    await kit.store.insert({ id: 'orphan', queue: 'crash', payload: '"x"', maxAttempts: 3, backoffType: 'fixed', backoffDelay: 0, runAt: now, createdAt: now });
    const [job] = await kit.store.findClaimable('crash', now, 1);
    // The dead process's claim: taken once, never renewed.
    expect(await kit.store.claim(job, now, now + 500)).toBe(true);
    expect(await kit.store.claim(job, now, now + 500)).toBe(false);

    const attempts: number[] = [];
    driver = await kit.make(true);
    driver.register('crash', (_payload, ctx) => void attempts.push(ctx.attempt));
    await driver.start();
    await waitFor(() => attempts.length === 1, 'the orphaned job to run again', 10_000);
    expect(attempts).toEqual([2]);
    expect(Date.now()).toBeGreaterThanOrEqual(now + 500);
    await waitFor(async () => (await driver!.counts('crash')).completed === 1, 'the job to be completed');
  });
});
