import { Module } from '@nestjs/common';
import { WebhookService } from './webhook.service';

/** Domain events delivered to the configured URLs, each delivery a retried `webhook` job. */
@Module({ providers: [WebhookService], exports: [WebhookService] })
export class WebhookModule {}
