import { Global, Module } from '@nestjs/common';

/** The work queues: BullMQ when redis.url is set, else the embedded driver (filled by the queue work). */
@Global()
@Module({})
export class QueueModule {}
