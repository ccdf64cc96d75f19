import { Logger } from '@nestjs/common';
import { Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { JobHandlerFn, JobHandlerOptions, JobOptions, QueueCounts, WorkQueue } from './work-queue';

/** quit() waits for a reply a dead Redis never sends (and keeps reconnecting meanwhile); drop such a connection at once. */
async function closeConnection(connection: Redis): Promise<void> {
  if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect());
  else connection.disconnect();
}

export interface BullmqWorkQueueOptions {
  /** redis://host:port/db */
  url: string;
  /** Prefix of every key (redis.prefix). */
  prefix: string;
  /** Jobs run at once per queue unless its handler says otherwise. */
  concurrency: number;
  /** Completed and failed jobs are removed this long (ms) after they finished. */
  keepFinished: number;
}

interface Registration {
  handler: JobHandlerFn;
  concurrency: number;
}

/**
 * BullMQ ids may not be integers nor contain ':'; callers' ids may. Escaped reversibly: '%' and ':' as %25 and
 * %3A, and an integer-looking id gets a '%N' mark (no escape sequence starts that way).
 */
export function toBullmqJobId(id: string): string {
  const escaped = id.replace(/%/g, '%25').replace(/:/g, '%3A');
  return `${parseInt(escaped, 10)}` === escaped ? `%N${escaped}` : escaped;
}

export function fromBullmqJobId(id: string): string {
  const unmarked = id.startsWith('%N') ? id.slice(2) : id;
  return unmarked.replace(/%3A/g, ':').replace(/%25/g, '%');
}

/** The Redis driver (redis.url set): one BullMQ Queue and, for queues with a handler, one Worker per queue name. */
export class BullmqWorkQueue extends WorkQueue {
  private readonly logger = new Logger('WorkQueue');
  private readonly registrations = new Map<string, Registration>();
  private readonly queues = new Map<string, Queue>();
  private readonly workers: { worker: Worker; connection: Redis }[] = [];
  private readonly pendingAdds = new Set<Promise<unknown>>();
  private connection?: Redis;
  private closed = false;

  constructor(private readonly options: BullmqWorkQueueOptions) {
    super();
  }

  async add<T>(queue: string, payload: T, options: JobOptions = {}): Promise<string> {
    if (this.closed) throw new Error(`work queue is closed; job for ${queue} not added`);
    const keepSeconds = Math.ceil(this.options.keepFinished / 1000);
    const adding = this.queue(queue).add(queue, payload ?? null, {
      jobId: options.jobId === undefined ? undefined : toBullmqJobId(options.jobId),
      attempts: Math.max(1, options.attempts ?? 1),
      backoff: options.backoff,
      delay: options.delay && options.delay > 0 ? options.delay : undefined,
      removeOnComplete: { age: keepSeconds },
      removeOnFail: { age: keepSeconds },
    });
    this.pendingAdds.add(adding);
    try {
      const job = await adding;
      return options.jobId ?? String(job.id);
    } finally {
      this.pendingAdds.delete(adding);
    }
  }

  async counts(queue: string): Promise<QueueCounts> {
    const c = await this.queue(queue).getJobCounts('waiting', 'paused', 'prioritized', 'active', 'delayed', 'completed', 'failed');
    return { waiting: (c.waiting ?? 0) + (c.paused ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0 };
  }

  queueNames(): string[] {
    return [...this.registrations.keys()];
  }

  register<T>(queue: string, handler: JobHandlerFn<T>, options: Omit<JobHandlerOptions, 'queue'> = {}): void {
    if (this.registrations.has(queue)) throw new Error(`queue ${queue} already has a handler`);
    this.registrations.set(queue, { handler: handler as JobHandlerFn, concurrency: Math.max(1, options.concurrency ?? this.options.concurrency) });
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error('work queue is closed');
    if (this.workers.length) return;
    for (const [name, { handler, concurrency }] of this.registrations) {
      const connection = this.newConnection(null);
      const worker = new Worker(name, (job: Job) => Promise.resolve(handler(job.data, { id: fromBullmqJobId(String(job.id)), queue: name, attempt: job.attemptsMade + 1 })), {
        // A worker needs its own connection (BullMQ duplicates it for the blocking reads); commands must wait for Redis, never give up.
        connection,
        prefix: this.options.prefix,
        concurrency,
      });
      worker.on('error', (error) => this.logger.warn(`queue ${name}: ${error.message}`));
      worker.on('failed', (job, error) => {
        if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) this.logger.warn(`queue ${name}: job ${job.id} failed after ${job.attemptsMade} attempts: ${error.message}`);
        else this.logger.debug(`queue ${name}: job ${job?.id} attempt ${job?.attemptsMade} failed: ${error.message}`);
      });
      this.workers.push({ worker, connection });
    }
  }

  async stop(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(
      workers.map(async ({ worker, connection }) => {
        await worker.close();
        await closeConnection(connection);
      }),
    );
  }

  async close(): Promise<void> {
    await this.stop();
    await Promise.allSettled([...this.pendingAdds]);
    this.closed = true;
    const queues = [...this.queues.values()];
    this.queues.clear();
    await Promise.all(queues.map((q) => q.close()));
    if (this.connection) await closeConnection(this.connection);
    this.connection = undefined;
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      this.connection ??= this.newConnection(20);
      queue = new Queue(name, { connection: this.connection, prefix: this.options.prefix });
      queue.on('error', (error) => this.logger.warn(`queue ${name}: ${error.message}`));
      this.queues.set(name, queue);
    }
    return queue;
  }

  private newConnection(maxRetriesPerRequest: number | null): Redis {
    const redis = new Redis(this.options.url, { maxRetriesPerRequest });
    redis.on('error', (error) => this.logger.warn(`redis: ${error.message}`));
    return redis;
  }
}
