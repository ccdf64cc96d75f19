export * from './observability.config';
export * from './observability.module';
export * from './metrics/metrics.service';
export * from './metrics/rate-window';
export * from './health/health.service';
