import { Min } from 'class-validator';
import { Duration } from '@m7s/core';

/** `proxy` section: how pull and push proxies retry, report and check their remotes. */
export class ProxyConfig {
  /** First wait before retrying a failed pull or push; it doubles with each failure in a row. */
  @Duration() @Min(100) retryMin = 1000;
  /** Longest wait between two attempts (retries go on forever). */
  @Duration() @Min(100) retryMax = 30_000;
  /** A pull or push that ran at least this long starts the backoff over (its next retry waits retryMin). */
  @Duration() retryResetAfter = 10_000;
  /** Connect and handshake deadline of one attempt. */
  @Duration() @Min(100) connectTimeout = 10_000;
  /** How often the round-trip time of running pulls and pushes is sampled into the API (rtt). */
  @Duration() @Min(100) rttInterval = 5000;
  /** Idle proxies (nothing to pull or push): how often their remote is checked with a TCP connect, for online/offline and rtt; 0 = never. */
  @Duration() checkInterval = 30_000;
}
