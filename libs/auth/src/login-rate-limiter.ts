/**
 * Fixed-window counter per client address with a hard cap on the addresses it remembers. An attempt is
 * counted when it starts (so parallel guesses are bounded too) and given back when it succeeds.
 */
export class LoginRateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Counts an attempt; returns 0 when allowed, else the seconds until the address may try again. */
  hit(address: string, now = Date.now()): number {
    let entry = this.windows.get(address);
    if (entry && entry.resetAt <= now) {
      this.windows.delete(address);
      entry = undefined;
    }
    if (!entry) {
      if (this.windows.size >= this.maxAddresses) this.evict(now);
      entry = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(address, entry);
    }
    entry.count++;
    return entry.count > this.limit ? Math.max(1, Math.ceil((entry.resetAt - now) / 1000)) : 0;
  }

  /** Gives an attempt back (it succeeded), so only failed attempts use up the window. */
  refund(address: string): void {
    const entry = this.windows.get(address);
    if (entry && entry.count > 0) entry.count--;
  }

  get size(): number {
    return this.windows.size;
  }

  /** Drops ended windows; when too many still run, the oldest tenth go (insertion order), so this runs rarely. */
  private evict(now: number): void {
    for (const [address, entry] of this.windows) if (entry.resetAt <= now) this.windows.delete(address);
    for (const address of this.windows.keys()) {
      if (this.windows.size < this.maxAddresses * 0.9) break;
      this.windows.delete(address);
    }
  }
}
