import { Module } from '@nestjs/common';

/** Prometheus metrics, health, webhooks (filled by the observability work). */
@Module({})
export class ObservabilityModule {}
