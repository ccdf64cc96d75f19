import { IsInt, IsString, Max, Min } from 'class-validator';
import { Duration } from '../config/config.validators';

/** `redis` section. */
export class RedisConfig {
  /** redis://127.0.0.1:6379/0 ; set to run the work queues on BullMQ (and, later, the cluster) instead of the embedded driver. */
  @IsString() url = '';
  /** Prefix of every key this server writes. */
  @IsString() prefix = 'm7s';
}

/** `queue` section: the work queues (webhooks, uploads, MP4 finalize...). */
export class QueueConfig {
  /** Jobs run at once per queue. */
  @IsInt() @Min(1) @Max(256) concurrency = 4;
  /** Embedded driver: how often the database is checked for due jobs when idle. */
  @Duration() pollInterval = 500;
  /** Embedded driver: a running job's claim, renewed while it runs; one not renewed this long (crashed worker) runs again. */
  @Duration() @Min(1000) lockTimeout = 30_000;
  /** Finished jobs are kept this long (for the API and for deduplication), then removed. */
  @Duration() keepFinished = 24 * 3600_000;
}
