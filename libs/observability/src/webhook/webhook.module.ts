import { Module } from '@nestjs/common';

/** Domain events delivered to configured URLs as retried jobs (filled by the webhook work). */
@Module({})
export class WebhookModule {}
