import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { Duration } from '@m7s/core';
import { IsHttpUrlList, IsWebhookEventUrls } from './webhook/webhook-url.validator';

/** `webhook` section: domain events POSTed to URLs, each delivery a retried job (payload: README.md, Webhooks). */
export class WebhookConfig {
  /** http(s) URLs that receive every event. */
  @IsHttpUrlList() urls: string[] = [];
  /** Per event name (publish_start, publish_end, subscribe_start, subscribe_end, record_start, record_end, pull_start, pull_end, push_start, push_end, keep_alive): more URLs. */
  @IsWebhookEventUrls() events: Record<string, string[]> = {};
  /** Per delivery attempt. */
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
