import { argon2id, hash, verify } from 'argon2';
import { randomBytes } from 'node:crypto';
import { AppError } from '@m7s/core';

/** argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane): strong, and a login costs tens of ms on a small box. */
const ARGON2_OPTIONS = { type: argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

/** Encoded argon2id hash (algorithm, parameters and salt included). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

/** False for a wrong password or a malformed hash. */
export async function verifyPassword(encoded: string, password: string): Promise<boolean> {
  try {
    return await verify(encoded, password);
  } catch {
    return false;
  }
}

/** A strong random password for the first admin (24 characters of base64url, 144 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** Bounds the password checks running at once (each holds 19 MiB); callers beyond the queue are refused. */
export class PasswordCheckLimiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency = 4,
    private readonly maxWaiting = 64,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.concurrency) {
      this.running++;
    } else {
      if (this.waiting.length >= this.maxWaiting) throw new AppError('RESOURCE_EXHAUSTED', 'too many logins in progress; try again shortly');
      await new Promise<void>((resolve) => this.waiting.push(resolve)); // the slot is handed over, running stays
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
