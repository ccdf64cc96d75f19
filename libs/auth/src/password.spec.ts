import { AppError } from '@m7s/core';
import { generatePassword, hashPassword, PasswordCheckLimiter, verifyPassword } from './password';

describe('passwords', () => {
  it('hashes with argon2id and verifies', async () => {
    const password = generatePassword();
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const encoded = await hashPassword(password);
    expect(encoded).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(encoded, password)).toBe(true);
    expect(await verifyPassword(encoded, password + 'x')).toBe(false);
    expect(await verifyPassword('not a hash', password)).toBe(false);
  });

  it('runs a bounded number of checks at once and refuses beyond its queue', async () => {
    const limiter = new PasswordCheckLimiter(2, 1);
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const work = () =>
      new Promise<void>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        releases.push(() => {
          running--;
          resolve();
        });
      });
    const accepted = [limiter.run(work), limiter.run(work), limiter.run(work)];
    await expect(limiter.run(work)).rejects.toBeInstanceOf(AppError);
    while (releases.length) {
      releases.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(accepted);
    expect(peak).toBe(2);
  });
});
