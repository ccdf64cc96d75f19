import { IsArray, IsBoolean, IsInt, IsObject, IsString, Max, Min } from 'class-validator';
import { Duration } from '@m7s/core';

/** `webhook` section: domain events POSTed to URLs, each delivery a retried job. */
export class WebhookConfig {
  /** URLs that receive every event. */
  @IsArray() @IsString({ each: true }) urls: string[] = [];
  /** Per event name (publish_start, publish_end, subscribe_start, subscribe_end, record_start, record_end, pull_start, pull_end, push_start, push_end, keep_alive): more URLs. */
  @IsObject() events: Record<string, string[]> = {};
  @Duration() timeout = 5000;
  /** Delivery attempts before a delivery is given up. */
  @IsInt() @Min(1) @Max(100) attempts = 10;
  /** First retry delay; doubles with each attempt. */
  @Duration() backoff = 1000;
  /** keep_alive event period (0 = none). */
  @Duration() keepAliveInterval = 60_000;
}

/** `metrics` section. */
export class MetricsConfig {
  /** Serve GET /api/metrics (Prometheus text format). */
  @IsBoolean() enable = true;
  /** Without a token (for a scraper on a trusted network); false = needs a token with the metrics permission. */
  @IsBoolean() public = true;
}
