import { RateWindow } from './rate-window';

/** Reads a counter growing by `perSecond` at the given times (ms) and returns the last rate. */
function rateAfter(readAt: number[], perSecond: number, windowMs = 10_000): number {
  const window = new RateWindow(0, 0, windowMs, 1000);
  let rate = 0;
  for (const t of readAt) rate = window.rate(t, (perSecond * t) / 1000);
  return rate;
}

describe('RateWindow', () => {
  it.each([
    { what: 'one read after 2 s', readAt: [2000], expected: 25 },
    { what: 'reads every second for 30 s', readAt: Array.from({ length: 30 }, (_, i) => (i + 1) * 1000), expected: 25 },
    { what: 'reads every 15 s (a Prometheus scrape interval)', readAt: [15_000, 30_000, 45_000], expected: 25 },
    { what: 'reads every 100 ms', readAt: Array.from({ length: 200 }, (_, i) => (i + 1) * 100), expected: 25 },
    { what: 'a read at the start time', readAt: [0], expected: 0 },
  ])('a steady 25/s counter, $what: $expected/s', ({ readAt, expected }) => {
    expect(rateAfter(readAt, 25)).toBeCloseTo(expected, 6);
  });

  it('follows a change of rate within the window', () => {
    const window = new RateWindow(0);
    let value = 0;
    let t = 0;
    // 20 s at 100/s, then 20 s at 10/s, read every second.
    for (; t < 20_000; ) {
      t += 1000;
      value += 100;
      window.rate(t, value);
    }
    expect(window.rate(t, value)).toBeCloseTo(100, 6);
    for (let i = 0; i < 5; i++) {
      t += 1000;
      value += 10;
      window.rate(t, value);
    }
    // Half of the last 10 s at each rate.
    expect(window.rate(t, value)).toBeCloseTo(55, 6);
    for (let i = 0; i < 15; i++) {
      t += 1000;
      value += 10;
      window.rate(t, value);
    }
    expect(window.rate(t, value)).toBeCloseTo(10, 6);
  });

  it('drops to 0 once the counter stops for a whole window', () => {
    const window = new RateWindow(0);
    for (let t = 1000; t <= 10_000; t += 1000) window.rate(t, t);
    expect(window.rate(10_000, 10_000)).toBeCloseTo(1000, 6);
    for (let t = 11_000; t <= 25_000; t += 1000) window.rate(t, 10_000);
    expect(window.rate(25_000, 10_000)).toBe(0);
  });

  it('keeps at most one reading per spacing interval, however often it is read', () => {
    const window = new RateWindow(0, 0, 10_000, 1000);
    for (let t = 1; t <= 60_000; t += 7) window.rate(t, t);
    expect(window.readings).toBeLessThanOrEqual(12);
  });

  it('counts from a start value other than 0 at the start time', () => {
    const window = new RateWindow(5000, 1_000_000);
    expect(window.rate(7000, 1_000_000 + 250_000)).toBeCloseTo(125_000, 6);
  });
});
