import type { RelaySession } from '@m7s/core';
import { RelayRunner, retryDelay, RunnerHooks } from './relay-runner';

const policy = { retryMin: 1000, retryMax: 30_000, retryResetAfter: 10_000 };

/** A session the test ends by hand. */
function fakeSession(): RelaySession & { end(reason: string): void; stopped: number } {
  let end!: (reason: string) => void;
  const done = new Promise<string>((resolve) => (end = resolve));
  const session = {
    url: 'rtmp://h/app/s',
    streamPath: 'live/s',
    done,
    stopped: 0,
    rtt: () => 12,
    stop: () => {
      session.stopped++;
      end('stopped');
    },
    end: (reason: string) => end(reason),
  };
  return session;
}

/** Hooks whose connect() answers from a script: an Error rejects, a session resolves, 'hang' never settles. */
function scripted(script: Array<Error | RelaySession | 'hang'>) {
  const log: string[] = [];
  const pending: Array<{ resolve: (s: RelaySession) => void; reject: (e: Error) => void }> = [];
  const hooks: RunnerHooks = {
    connect: () => {
      log.push(`connect@${Date.now()}`);
      const next = script.shift() ?? new Error('no more');
      if (next === 'hang') return new Promise((resolve, reject) => pending.push({ resolve, reject }));
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
    up: () => log.push(`up@${Date.now()}`),
    down: (reason, retryIn) => log.push(`down(${reason}, ${retryIn})@${Date.now()}`),
  };
  return { hooks, log, pending };
}

describe('retryDelay', () => {
  it('doubles from retryMin and stops at retryMax', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelay(policy, n))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(retryDelay(policy, 1000)).toBe(30_000);
  });
});

describe('RelayRunner', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
  });
  afterEach(() => jest.useRealTimers());

  it('retries failures forever with exponential backoff capped at retryMax', async () => {
    const { hooks, log } = scripted(Array.from({ length: 9 }, (_, i) => new Error(`refused ${i}`)));
    const runner = new RelayRunner(policy, hooks);
    runner.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(runner.state).toBe('waiting');
    await jest.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 8000 + 16_000 + 30_000 + 30_000);
    const connects = log.filter((l) => l.startsWith('connect')).map((l) => Number(l.split('@')[1]));
    expect(connects).toEqual([0, 1000, 3000, 7000, 15_000, 31_000, 61_000, 91_000]);
    expect(log).toContain('down(refused 0, 1000)@0');
    expect(log).toContain('down(refused 6, 30000)@61000');
    expect(runner.failureCount).toBe(8);
    runner.stop();
    expect(runner.state).toBe('idle');
    await jest.advanceTimersByTimeAsync(120_000);
    expect(log.filter((l) => l.startsWith('connect'))).toHaveLength(8);
  });

  it('reports up, then retries after the session ends; a long run resets the backoff', async () => {
    const first = fakeSession();
    const second = fakeSession();
    const { hooks, log } = scripted([new Error('a'), new Error('b'), first, second]);
    const runner = new RelayRunner(policy, hooks);
    runner.start();
    await jest.advanceTimersByTimeAsync(3000); // fails at 0 and 1000, up at 3000
    expect(runner.state).toBe('up');
    expect(runner.current).toBe(first);
    expect(runner.failureCount).toBe(2);
    await jest.advanceTimersByTimeAsync(20_000);
    first.end('camera gone'); // ran 20 s: longer than retryResetAfter
    await jest.advanceTimersByTimeAsync(0);
    expect(runner.state).toBe('waiting');
    expect(log.at(-1)).toBe('down(camera gone, 1000)@23000');
    await jest.advanceTimersByTimeAsync(1000);
    expect(runner.current).toBe(second);
  });

  it('keeps the backoff growing when sessions end quickly', async () => {
    const sessions = [fakeSession(), fakeSession()];
    const { hooks, log } = scripted([new Error('a'), sessions[0], sessions[1]]);
    const runner = new RelayRunner(policy, hooks);
    runner.start();
    await jest.advanceTimersByTimeAsync(1000);
    sessions[0].end('dropped');
    await jest.advanceTimersByTimeAsync(0);
    expect(log.at(-1)).toBe('down(dropped, 2000)@1000');
  });

  it('stop() stops the running session and ignores its end', async () => {
    const session = fakeSession();
    const { hooks, log } = scripted([session]);
    const runner = new RelayRunner(policy, hooks);
    runner.start();
    await jest.advanceTimersByTimeAsync(0);
    runner.stop();
    expect(session.stopped).toBe(1);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(log).toEqual(['connect@0', 'up@0']);
    expect(runner.state).toBe('idle');
  });

  it('a session that arrives after stop() is stopped at once and never reported', async () => {
    const { hooks, log, pending } = scripted(['hang']);
    const runner = new RelayRunner(policy, hooks);
    runner.start();
    expect(runner.state).toBe('connecting');
    runner.stop();
    const late = fakeSession();
    pending[0].resolve(late);
    await jest.advanceTimersByTimeAsync(0);
    expect(late.stopped).toBe(1);
    expect(log).toEqual(['connect@0']);
  });

  it('a failure that arrives after stop() is ignored; start() again begins a fresh backoff', async () => {
    const { hooks, log, pending } = scripted([new Error('x'), 'hang', new Error('y')]);
    const runner = new RelayRunner(policy, hooks);
    runner.start();
    await jest.advanceTimersByTimeAsync(1000); // failed at 0, second attempt hangs from 1000
    runner.stop();
    pending[0].reject(new Error('late'));
    await jest.advanceTimersByTimeAsync(0);
    expect(log.some((l) => l.includes('late'))).toBe(false);
    runner.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(log.at(-1)).toBe('down(y, 1000)@1000');
  });

  it('a connect() that throws synchronously counts as a failed attempt', async () => {
    const hooks: RunnerHooks = {
      connect: () => {
        throw new Error('no driver');
      },
      up: () => undefined,
      down: jest.fn(),
    };
    const runner = new RelayRunner(policy, hooks);
    runner.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(hooks.down).toHaveBeenCalledWith('no driver', 1000);
    runner.stop();
  });
});
