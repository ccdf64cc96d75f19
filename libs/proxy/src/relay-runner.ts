import { backoffDelay, RelaySession } from '@m7s/core';

/** When to retry: exponential from `retryMin`, capped at `retryMax`, started over after a run of `retryResetAfter`. */
export interface RetryPolicy {
  retryMin: number;
  retryMax: number;
  retryResetAfter: number;
}

/** The wait before the next attempt after `failures` failures in a row (1 for the first). */
export function retryDelay(policy: RetryPolicy, failures: number): number {
  return Math.min(policy.retryMax, backoffDelay({ type: 'exponential', delay: policy.retryMin }, failures));
}

/** What a runner does and tells. Hooks must not throw. */
export interface RunnerHooks {
  /** One attempt: resolves with a running session, rejects with the reason. */
  connect(): Promise<RelaySession>;
  /** An attempt succeeded: media flows. */
  up(session: RelaySession): void;
  /** An attempt failed or a running session ended; the next attempt starts in `retryInMs`. */
  down(reason: string, retryInMs: number): void;
}

export type RunnerState = 'idle' | 'connecting' | 'up' | 'waiting';

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Keeps one pull or push up while it is wanted: `start()` makes the first attempt, every failure or end is
 * followed by another attempt after an exponential backoff, forever, until `stop()`. A session that ran at
 * least `retryResetAfter` resets the backoff. Callbacks of an attempt that `stop()` overtook are ignored, and a
 * session that resolves after `stop()` is stopped at once.
 */
export class RelayRunner {
  private wanted = false;
  private session: RelaySession | undefined;
  private connecting = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Bumped by each attempt and by stop(): an attempt's callbacks act only while it is current. */
  private generation = 0;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly hooks: RunnerHooks,
  ) {}

  /** Whether the runner has been started and not stopped (up, connecting or waiting to retry). */
  get isWanted(): boolean {
    return this.wanted;
  }

  get state(): RunnerState {
    if (!this.wanted) return 'idle';
    if (this.session) return 'up';
    return this.connecting ? 'connecting' : 'waiting';
  }

  /** The running session, while up. */
  get current(): RelaySession | undefined {
    return this.session;
  }

  /** Failures in a row since the last success (or reset). */
  get failureCount(): number {
    return this.failures;
  }

  /** Starts keeping the relay up; no-op when already started. */
  start(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.failures = 0;
    this.attempt();
  }

  /** Stops the session (or the attempt under way, or the pending retry); no-op when not started. */
  stop(): void {
    if (!this.wanted) return;
    this.wanted = false;
    this.generation++;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.connecting = false;
    const session = this.session;
    this.session = undefined;
    session?.stop();
  }

  private attempt(): void {
    this.retryTimer = undefined;
    const generation = ++this.generation;
    this.connecting = true;
    let pending: Promise<RelaySession>;
    try {
      pending = this.hooks.connect();
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (session) => {
        if (generation !== this.generation) {
          session.stop();
          return;
        }
        this.connecting = false;
        this.session = session;
        const upAt = Date.now();
        this.hooks.up(session);
        void session.done.then((reason) => {
          if (generation !== this.generation || this.session !== session) return;
          this.session = undefined;
          if (Date.now() - upAt >= this.policy.retryResetAfter) this.failures = 0;
          this.retry(reason);
        });
      },
      (error: unknown) => {
        if (generation !== this.generation) return;
        this.connecting = false;
        this.retry(reasonOf(error));
      },
    );
  }

  private retry(reason: string): void {
    this.failures++;
    const delay = retryDelay(this.policy, this.failures);
    this.retryTimer = setTimeout(() => this.attempt(), delay);
    this.hooks.down(reason, delay);
  }
}
