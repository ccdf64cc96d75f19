import { SetMetadata } from '@nestjs/common';

export interface JobBackoff {
  type: 'fixed' | 'exponential';
  /** ms; exponential doubles it with each attempt. */
  delay: number;
}

export interface JobOptions {
  /** Total attempts including the first (default 1). */
  attempts?: number;
  backoff?: JobBackoff;
  /** Run no earlier than this many ms from now. */
  delay?: number;
  /** A job with an id already queued (or recently finished) is not added again. */
  jobId?: string;
}

export interface JobContext {
  id: string;
  queue: string;
  /** 1 on the first run. */
  attempt: number;
}

export type JobHandlerFn<T = unknown> = (payload: T, job: JobContext) => Promise<void> | void;

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

/**
 * The work-queue port: long or retryable side work (webhook delivery, uploads, MP4 finalize, retention)
 * runs as jobs on named queues. Drivers: BullMQ on Redis when redis.url is set, else the embedded driver
 * that keeps jobs in the database. Handlers are methods marked with @JobHandler('queue'), found at bootstrap.
 */
export abstract class WorkQueue {
  /** Adds a job; resolves with its id once it is stored durably. */
  abstract add<T>(queue: string, payload: T, options?: JobOptions): Promise<string>;
  /** Job counts of one queue (metrics, API). */
  abstract counts(queue: string): Promise<QueueCounts>;
  /** Names of the queues that have a handler. */
  abstract queueNames(): string[];
  /** Declares the handler of a queue; the QueueModule does it for every @JobHandler method at bootstrap. */
  abstract register<T>(queue: string, handler: JobHandlerFn<T>, options?: Omit<JobHandlerOptions, 'queue'>): void;
  /** Starts running the jobs of the registered queues. */
  abstract start(): Promise<void>;
  /** Takes no new job and waits for the running ones; jobs added from now on are stored and run on the next start. */
  abstract stop(): Promise<void>;
  /** stop(), then waits for the adds under way and releases connections and timers. */
  abstract close(): Promise<void>;
}

export const JOB_HANDLER = 'm7s:job-handler';

export interface JobHandlerOptions {
  queue: string;
  /** Jobs of this queue run at once in this process (default: queue.concurrency). */
  concurrency?: number;
}

/** Marks a provider method as the handler of a queue: `@JobHandler('webhook') deliver(payload, job) {...}`. */
export function JobHandler(queue: string, options: Omit<JobHandlerOptions, 'queue'> = {}): MethodDecorator {
  return SetMetadata(JOB_HANDLER, { queue, ...options } satisfies JobHandlerOptions);
}
