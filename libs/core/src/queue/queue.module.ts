import { BeforeApplicationShutdown, Global, Injectable, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { ConfigService } from '../config/config.service';
import { BullmqWorkQueue } from './bullmq-work-queue';
import { EmbeddedWorkQueue } from './embedded-work-queue';
import { JobStore } from './job-store';
import { QueueConfig, RedisConfig } from './queue.config';
import { JOB_HANDLER, JobHandlerOptions, WorkQueue } from './work-queue';

/** BullMQ when redis.url is set, else the embedded driver on the JobStore that PersistenceModule provides. */
export function createWorkQueue(config: ConfigService, store: JobStore | undefined): WorkQueue {
  const redis = config.section<RedisConfig>('redis');
  const queue = config.section<QueueConfig>('queue');
  if (redis.url) return new BullmqWorkQueue({ url: redis.url, prefix: redis.prefix, concurrency: queue.concurrency, keepFinished: queue.keepFinished });
  if (!store) throw new Error('the embedded work queue needs a JobStore (PersistenceModule) when redis.url is not set');
  return new EmbeddedWorkQueue(store, { concurrency: queue.concurrency, pollInterval: queue.pollInterval, lockTimeout: queue.lockTimeout, keepFinished: queue.keepFinished });
}

/**
 * Registers every @JobHandler method at bootstrap and starts the workers. At shutdown the workers stop before
 * the engine ends its streams (so the events of that end are stored as jobs, not run), and the driver is
 * closed after them, before the database closes.
 */
@Injectable()
export class QueueRunner implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('WorkQueue');

  constructor(
    private readonly queue: WorkQueue,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const seen = new Set<object>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic() || seen.has(instance)) continue;
      seen.add(instance);
      const target = instance as Record<string, unknown>;
      for (const method of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        const fn = target[method];
        if (typeof fn !== 'function') continue;
        const options = this.reflector.get<JobHandlerOptions | undefined>(JOB_HANDLER, fn as () => unknown);
        if (!options) continue;
        this.queue.register(options.queue, (payload, job) => (fn as (...args: unknown[]) => unknown).call(instance, payload, job) as Promise<void> | void, { concurrency: options.concurrency });
        this.logger.log(`queue ${options.queue}: handled by ${instance.constructor.name}.${method}`);
      }
    }
    await this.queue.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.queue.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

/** The work queues: `WorkQueue` for everyone (global), handlers found by their @JobHandler decorator. */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: WorkQueue,
      useFactory: createWorkQueue,
      inject: [ConfigService, { token: JobStore, optional: true }],
    },
    QueueRunner,
  ],
  exports: [WorkQueue],
})
export class QueueModule {}
