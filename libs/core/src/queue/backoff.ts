import type { JobBackoff } from './work-queue';

/**
 * The wait before the next attempt once attempt `attemptsMade` (1 on the first run) has failed. Same formula
 * as BullMQ's built-in strategies, so both drivers retry on the same schedule: fixed waits `delay` each time,
 * exponential waits delay, 2·delay, 4·delay...
 */
export function backoffDelay(backoff: JobBackoff | undefined, attemptsMade: number): number {
  if (!backoff || backoff.delay <= 0) return 0;
  if (backoff.type === 'fixed') return backoff.delay;
  return Math.round(2 ** Math.max(0, attemptsMade - 1) * backoff.delay);
}

/** Whether a job that has failed `attemptsMade` times runs again. */
export function shouldRetry(attemptsMade: number, maxAttempts: number): boolean {
  return attemptsMade < maxAttempts;
}
