import { Module } from '@nestjs/common';
import { HealthController } from './health/health.controller';
import { HealthService } from './health/health.service';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { WebhookModule } from './webhook/webhook.module';

/** Prometheus metrics (GET /api/metrics), liveness and readiness (GET /api/health, /api/health/ready), webhooks. */
@Module({
  imports: [WebhookModule],
  controllers: [MetricsController, HealthController],
  providers: [MetricsService, HealthService],
  exports: [MetricsService],
})
export class ObservabilityModule {}
