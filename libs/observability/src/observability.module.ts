import { Module } from '@nestjs/common';
import { WebhookModule } from './webhook/webhook.module';

/** Prometheus metrics, health, webhooks (metrics and health filled by the observability work). */
@Module({ imports: [WebhookModule] })
export class ObservabilityModule {}
