import { backoffDelay, shouldRetry } from './backoff';

describe('backoffDelay', () => {
  it.each([
    [undefined, 1, 0],
    [{ type: 'fixed', delay: 0 }, 3, 0],
    [{ type: 'fixed', delay: 250 }, 1, 250],
    [{ type: 'fixed', delay: 250 }, 7, 250],
    [{ type: 'exponential', delay: 100 }, 1, 100],
    [{ type: 'exponential', delay: 100 }, 2, 200],
    [{ type: 'exponential', delay: 100 }, 3, 400],
    [{ type: 'exponential', delay: 1000 }, 10, 512_000],
    [{ type: 'exponential', delay: 100 }, 0, 100],
  ] as const)('%j after attempt %i waits %i ms', (backoff, attempt, expected) => {
    expect(backoffDelay(backoff, attempt)).toBe(expected);
  });
});

describe('shouldRetry', () => {
  it.each([
    [1, 1, false],
    [1, 3, true],
    [2, 3, true],
    [3, 3, false],
    [4, 3, false],
  ])('after %i of %i attempts: %s', (made, max, expected) => {
    expect(shouldRetry(made, max)).toBe(expected);
  });
});
