import type { QueueCounts } from './work-queue';

export type StoredJobStatus = 'waiting' | 'active' | 'completed' | 'failed';

/** A job of the embedded driver as the database holds it. Times are ms since the epoch. */
export interface StoredJob {
  id: string;
  queue: string;
  /** JSON */
  payload: string;
  status: StoredJobStatus;
  /** Attempts started so far (a claim counts one). */
  attempts: number;
  maxAttempts: number;
  backoffType: 'fixed' | 'exponential';
  backoffDelay: number;
  /** Not run before this time. */
  runAt: number;
  /** While active: the claim runs out at this time, then the job may be claimed again (its worker is taken as dead). */
  lockedUntil: number | null;
  lastError: string | null;
  createdAt: number;
  finishedAt: number | null;
}

export type NewStoredJob = Pick<StoredJob, 'id' | 'queue' | 'payload' | 'maxAttempts' | 'backoffType' | 'backoffDelay' | 'runAt' | 'createdAt'>;

/**
 * Where the embedded work queue keeps its jobs (implemented over the `jobs` table by @m7s/persistence). Every
 * state change after a claim is conditional on (id, status 'active', attempts) so a worker that lost its claim
 * cannot overwrite the state written by the one that took the job over; several processes may share one store.
 */
export abstract class JobStore {
  /** Stores a waiting job unless a job with its id exists (in any state). True when it was stored. */
  abstract insert(job: NewStoredJob): Promise<boolean>;
  /** Jobs of a queue that can be claimed at `now`: waiting and due, or active with a run-out claim; earliest first. */
  abstract findClaimable(queue: string, now: number, limit: number): Promise<StoredJob[]>;
  /**
   * Takes a job returned by findClaimable unless someone else took it since: status active, attempts + 1,
   * lockedUntil. Exclusive even between processes (one conditional UPDATE, checked by the rows it changed).
   */
  abstract claim(job: StoredJob, now: number, lockedUntil: number): Promise<boolean>;
  /** Extends the claim of a running attempt; false when the claim was lost. */
  abstract renew(id: string, attempt: number, lockedUntil: number): Promise<boolean>;
  abstract complete(id: string, attempt: number, now: number): Promise<void>;
  /** Back to waiting until `runAt`. */
  abstract retry(id: string, attempt: number, runAt: number, error: string): Promise<void>;
  abstract fail(id: string, attempt: number, now: number, error: string): Promise<void>;
  abstract counts(queue: string, now: number): Promise<QueueCounts>;
  /** Deletes completed and failed jobs finished before `before`; returns how many. */
  abstract removeFinished(before: number): Promise<number>;
}
