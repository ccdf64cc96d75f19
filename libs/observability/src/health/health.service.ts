import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { ConfigService, RedisConfig } from '@m7s/core';
import { DataSource } from '@m7s/persistence';

/** How long one readiness check may take before it counts as down. */
const CHECK_TIMEOUT_MS = 2000;

export type CheckStatus = 'up' | 'down';

export interface Readiness {
  status: 'ok' | 'error';
  /** db always; redis when redis.url is set. */
  checks: Record<string, CheckStatus>;
  /** Why each failing check failed. */
  errors?: Record<string, string>;
}

function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Readiness: the database answers a query and, when configured, Redis answers PING. */
@Injectable()
export class HealthService implements OnApplicationShutdown {
  private readonly redisUrl: string;
  /** One connection reused by every check, opened at the first one. */
  private redis: Redis | undefined;
  private connecting: Promise<void> | undefined;
  /** The socket error behind a failed connection ("ECONNREFUSED ..." says more than "Connection is closed."). */
  private redisError: Error | undefined;

  constructor(
    private readonly dataSource: DataSource,
    config: ConfigService,
  ) {
    this.redisUrl = config.section<RedisConfig>('redis').url;
  }

  async readiness(): Promise<Readiness> {
    const checks: [string, () => Promise<unknown>][] = [['db', () => this.dataSource.query('SELECT 1')]];
    if (this.redisUrl) checks.push(['redis', () => this.pingRedis()]);
    const result: Readiness = { status: 'ok', checks: {} };
    await Promise.all(
      checks.map(async ([name, check]) => {
        try {
          await withTimeout(check(), name);
          result.checks[name] = 'up';
        } catch (error) {
          result.checks[name] = 'down';
          result.status = 'error';
          result.errors ??= {};
          result.errors[name] = errorMessage(error);
        }
      }),
    );
    return result;
  }

  async onApplicationShutdown(): Promise<void> {
    const redis = this.redis;
    this.redis = undefined;
    if (!redis) return;
    if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
  }

  private async pingRedis(): Promise<void> {
    const redis = (this.redis ??= this.createRedis());
    if (redis.status === 'wait' || redis.status === 'end') {
      // Checks under way at once share one connection attempt.
      this.redisError = undefined;
      this.connecting ??= redis.connect().finally(() => (this.connecting = undefined));
    }
    try {
      if (this.connecting) await this.connecting;
      await redis.ping();
    } catch (error) {
      throw this.redisError ?? error;
    }
  }

  private createRedis(): Redis {
    const redis = new Redis(this.redisUrl, {
      lazyConnect: true,
      connectTimeout: CHECK_TIMEOUT_MS,
      // A check fails at once instead of queueing commands or reconnecting in the background; the next one reconnects.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // Failures are reported by the checks; without a listener ioredis would log each one.
    redis.on('error', (error: Error) => (this.redisError = error));
    return redis;
  }
}
