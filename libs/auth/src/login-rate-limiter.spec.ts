import { LoginRateLimiter } from './login-rate-limiter';

describe('LoginRateLimiter', () => {
  it('allows `limit` attempts per address per window, then tells when to come back', () => {
    const limiter = new LoginRateLimiter(3, 60_000);
    expect([0, 1, 2].map((i) => limiter.hit('a', 1000 + i))).toEqual([0, 0, 0]);
    expect(limiter.hit('a', 2000)).toBe(59);
    expect(limiter.hit('b', 2000)).toBe(0);
    expect(limiter.hit('a', 61_000)).toBe(0); // a new window
  });

  it('gives back the attempts that succeeded', () => {
    const limiter = new LoginRateLimiter(2, 60_000);
    for (let i = 0; i < 10; i++) {
      expect(limiter.hit('a', 1000)).toBe(0);
      limiter.refund('a');
    }
    expect([limiter.hit('a', 1000), limiter.hit('a', 1000), limiter.hit('a', 1000)]).toEqual([0, 0, 60]);
  });

  it('remembers a bounded number of addresses', () => {
    const limiter = new LoginRateLimiter(1, 60_000, 100);
    for (let i = 0; i < 10_000; i++) limiter.hit(`10.0.${i >> 8}.${i & 255}`, 1000);
    expect(limiter.size).toBeLessThanOrEqual(100);
    expect(limiter.hit('10.0.39.15', 1000)).toBeGreaterThan(0); // the latest are still counted
  });
});
