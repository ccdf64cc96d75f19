/**
 * The per-second rate of a growing counter over a sliding window, from readings taken whenever someone
 * asks (a scrape): no timer and nothing on the media path. Readings are kept at least `minSpacingMs`
 * apart, so memory stays bounded however often it is read.
 */
export class RateWindow {
  private readonly times: number[];
  private readonly values: number[];

  /** `startTime`/`startValue`: when the counter started and its value then (the first reading). */
  constructor(
    startTime: number,
    startValue = 0,
    private readonly windowMs = 10_000,
    private readonly minSpacingMs = 1000,
  ) {
    this.times = [startTime];
    this.values = [startValue];
  }

  /**
   * Records `value` read at `now` and returns the rate per second since the newest reading at least
   * `windowMs` old (or the oldest one while the window is not full).
   */
  rate(now: number, value: number): number {
    const last = this.times.length - 1;
    if (now - this.times[last] >= this.minSpacingMs) {
      this.times.push(now);
      this.values.push(value);
    }
    let drop = 0;
    while (drop + 1 < this.times.length && this.times[drop + 1] <= now - this.windowMs) drop++;
    if (drop > 0) {
      this.times.splice(0, drop);
      this.values.splice(0, drop);
    }
    const elapsed = now - this.times[0];
    if (elapsed <= 0) return 0;
    return ((value - this.values[0]) * 1000) / elapsed;
  }

  /** Readings held (for tests of the memory bound). */
  get readings(): number {
    return this.times.length;
  }
}
