import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { backoffDelay, shouldRetry } from './backoff';
import { JobStore, StoredJob } from './job-store';
import { JobHandlerFn, JobHandlerOptions, JobOptions, QueueCounts, WorkQueue } from './work-queue';

export interface EmbeddedWorkQueueOptions {
  /** Jobs run at once per queue unless its handler says otherwise. */
  concurrency: number;
  /** How often the store is checked for due jobs (jobs added in this process start at once anyway). */
  pollInterval: number;
  /** A claim not renewed for this long is taken as a dead worker's; the job runs again. */
  lockTimeout: number;
  /** Completed and failed jobs are deleted this long after they finished. */
  keepFinished: number;
}

interface QueueWorker {
  name: string;
  handler: JobHandlerFn;
  concurrency: number;
  running: Set<Promise<void>>;
  /** Ids of the jobs running here (never claimed again by this process, even if their claim ran out). */
  runningIds: Set<string>;
  pump?: Promise<void>;
  /** A kick came while pumping: look again. */
  again: boolean;
  wakeTimer?: NodeJS.Timeout;
  wakeAt?: number;
}

const CLEANUP_EVERY_MS = 60_000;

/**
 * The default driver: jobs live in the database (through a JobStore), so a restart or a crash loses none.
 * Workers claim due jobs with a conditional update, renew the claim while running, and retry with the same
 * backoff formula as BullMQ. A job added in this process is looked for at once; others are found by polling.
 */
export class EmbeddedWorkQueue extends WorkQueue {
  private readonly logger = new Logger('WorkQueue');
  private readonly workers = new Map<string, QueueWorker>();
  private readonly pendingAdds = new Set<Promise<unknown>>();
  private state: 'idle' | 'running' | 'stopped' | 'closed' = 'idle';
  private pollTimer?: NodeJS.Timeout;
  private lastCleanup = 0;

  constructor(
    private readonly store: JobStore,
    private readonly options: EmbeddedWorkQueueOptions,
  ) {
    super();
  }

  async add<T>(queue: string, payload: T, options: JobOptions = {}): Promise<string> {
    if (this.state === 'closed') throw new Error(`work queue is closed; job for ${queue} not added`);
    const now = Date.now();
    const id = options.jobId ?? randomUUID();
    const delay = Math.max(0, options.delay ?? 0);
    const insert = this.store.insert({
      id,
      queue,
      payload: JSON.stringify(payload ?? null),
      maxAttempts: Math.max(1, options.attempts ?? 1),
      backoffType: options.backoff?.type ?? 'fixed',
      backoffDelay: Math.max(0, options.backoff?.delay ?? 0),
      runAt: now + delay,
      createdAt: now,
    });
    this.pendingAdds.add(insert);
    try {
      await insert;
    } finally {
      this.pendingAdds.delete(insert);
    }
    if (delay > 0) this.wakeAt(queue, now + delay);
    else this.kick(queue);
    return id;
  }

  counts(queue: string): Promise<QueueCounts> {
    return this.store.counts(queue, Date.now());
  }

  queueNames(): string[] {
    return [...this.workers.keys()];
  }

  register<T>(queue: string, handler: JobHandlerFn<T>, options: Omit<JobHandlerOptions, 'queue'> = {}): void {
    if (this.workers.has(queue)) throw new Error(`queue ${queue} already has a handler`);
    const worker: QueueWorker = { name: queue, handler: handler as JobHandlerFn, concurrency: Math.max(1, options.concurrency ?? this.options.concurrency), running: new Set(), runningIds: new Set(), again: false };
    this.workers.set(queue, worker);
    if (this.state === 'running') this.kick(queue);
  }

  async start(): Promise<void> {
    if (this.state === 'running') return;
    if (this.state === 'closed') throw new Error('work queue is closed');
    this.state = 'running';
    this.pollTimer = setInterval(() => this.poll(), Math.max(10, this.options.pollInterval));
    this.pollTimer.unref();
    this.poll();
  }

  async stop(): Promise<void> {
    if (this.state === 'running') this.state = 'stopped';
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    for (const worker of this.workers.values()) {
      clearTimeout(worker.wakeTimer);
      worker.wakeTimer = undefined;
      worker.wakeAt = undefined;
    }
    for (const worker of this.workers.values()) {
      await worker.pump;
      await Promise.allSettled([...worker.running]);
    }
  }

  async close(): Promise<void> {
    await this.stop();
    await Promise.allSettled([...this.pendingAdds]);
    this.state = 'closed';
  }

  private poll(): void {
    for (const name of this.workers.keys()) this.kick(name);
    const now = Date.now();
    if (now - this.lastCleanup >= Math.min(CLEANUP_EVERY_MS, Math.max(1000, this.options.keepFinished))) {
      this.lastCleanup = now;
      this.store.removeFinished(now - this.options.keepFinished).catch((error: unknown) => this.logger.warn(`removing finished jobs failed: ${errorText(error)}`));
    }
  }

  /** Looks for due jobs of a queue now (coalesced: one lookup at a time per queue). */
  private kick(queue: string): void {
    const worker = this.workers.get(queue);
    if (!worker || this.state !== 'running') return;
    if (worker.pump) {
      worker.again = true;
      return;
    }
    worker.pump = this.pump(worker).finally(() => (worker.pump = undefined));
  }

  private async pump(worker: QueueWorker): Promise<void> {
    try {
      do {
        worker.again = false;
        while (this.state === 'running' && worker.running.size < worker.concurrency) {
          const now = Date.now();
          const candidates = await this.store.findClaimable(worker.name, now, worker.concurrency - worker.running.size);
          let claimed = 0;
          for (const job of candidates) {
            if (this.state !== 'running' || worker.running.size >= worker.concurrency) break;
            if (worker.runningIds.has(job.id)) continue;
            if (await this.store.claim(job, now, now + this.options.lockTimeout)) {
              claimed++;
              this.run(worker, job);
            }
          }
          // Nothing due, or another process took them all: wait for the next kick or poll.
          if (claimed === 0) break;
        }
      } while (worker.again && this.state === 'running');
    } catch (error) {
      this.logger.warn(`queue ${worker.name}: looking for jobs failed: ${errorText(error)}`);
    }
  }

  private run(worker: QueueWorker, job: StoredJob): void {
    const attempt = job.attempts + 1;
    const renewEvery = Math.max(50, Math.floor(this.options.lockTimeout / 3));
    const renewTimer = setInterval(() => {
      this.store
        .renew(job.id, attempt, Date.now() + this.options.lockTimeout)
        .then((held) => held || this.logger.warn(`queue ${worker.name}: job ${job.id} lost its claim while running`))
        .catch((error: unknown) => this.logger.warn(`queue ${worker.name}: renewing job ${job.id} failed: ${errorText(error)}`));
    }, renewEvery);
    const task = (async () => {
      let failure: unknown;
      let failed = false;
      try {
        await worker.handler(JSON.parse(job.payload), { id: job.id, queue: worker.name, attempt });
      } catch (error) {
        failed = true;
        failure = error;
      } finally {
        clearInterval(renewTimer);
      }
      if (!failed) return this.store.complete(job.id, attempt, Date.now());
      const message = errorText(failure);
      if (shouldRetry(attempt, job.maxAttempts)) {
        const runAt = Date.now() + backoffDelay({ type: job.backoffType, delay: job.backoffDelay }, attempt);
        await this.store.retry(job.id, attempt, runAt, message);
        this.logger.debug(`queue ${worker.name}: job ${job.id} attempt ${attempt} failed, next in ${runAt - Date.now()} ms: ${message}`);
        this.wakeAt(worker.name, runAt);
      } else {
        await this.store.fail(job.id, attempt, Date.now(), message);
        this.logger.warn(`queue ${worker.name}: job ${job.id} failed after ${attempt} attempts: ${message}`);
      }
    })()
      .catch((error: unknown) => this.logger.warn(`queue ${worker.name}: storing the outcome of job ${job.id} failed: ${errorText(error)}`))
      .finally(() => {
        worker.running.delete(task);
        worker.runningIds.delete(job.id);
        this.kick(worker.name);
      });
    worker.running.add(task);
    worker.runningIds.add(job.id);
  }

  /** Looks again when a delayed or backed-off job becomes due (sooner than the next poll when it is close). */
  private wakeAt(queue: string, at: number): void {
    const worker = this.workers.get(queue);
    if (!worker || this.state !== 'running') return;
    if (worker.wakeTimer && worker.wakeAt !== undefined && worker.wakeAt <= at) return;
    clearTimeout(worker.wakeTimer);
    worker.wakeAt = at;
    worker.wakeTimer = setTimeout(() => {
      worker.wakeTimer = undefined;
      worker.wakeAt = undefined;
      this.kick(queue);
    }, Math.max(0, at - Date.now()));
    worker.wakeTimer.unref();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
