import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable, Logger, OnApplicationShutdown, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ConfigService, EngineEvents, JobContext, JobHandler, StreamRegistry, WorkQueue } from '@m7s/core';
import { WebhookConfig } from '../observability.config';
import { WEBHOOK_STREAM_EVENTS, WebhookBody, WebhookDelivery, WebhookEventName } from './webhook-events';

export const WEBHOOK_QUEUE = 'webhook';

/** Fields every body starts with; an event's own fields never replace them. */
const RESERVED = new Set(['id', 'event', 'time', 'node']);

/**
 * Turns engine events (and a periodic keep_alive) into one `webhook` job per URL. The job id is derived from the
 * event id and the URL, so a delivery is queued once; the handler POSTs the JSON body and throws on anything but
 * a 2xx, which makes the queue retry it with exponential backoff. Emitting never waits for the queue.
 */
@Injectable()
export class WebhookService implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('Webhook');
  private readonly config: WebhookConfig;
  private readonly node: string;
  private readonly startedAt = Date.now();
  private readonly unsubscribers: (() => void)[] = [];
  private keepAliveTimer?: NodeJS.Timeout;

  constructor(
    private readonly events: EngineEvents,
    private readonly queue: WorkQueue,
    private readonly registry: StreamRegistry,
    configService: ConfigService,
  ) {
    this.config = configService.section<WebhookConfig>('webhook');
    this.node = configService.core.name || hostname();
  }

  onModuleInit(): void {
    for (const name of WEBHOOK_STREAM_EVENTS) {
      if (this.urlsFor(name).length === 0) continue;
      this.unsubscribers.push(this.events.on(name, (event) => this.dispatch(name, event as unknown as Record<string, unknown>)));
    }
    if (this.config.keepAliveInterval > 0 && this.urlsFor('keep_alive').length > 0) {
      this.keepAliveTimer = setInterval(() => this.dispatch('keep_alive', this.keepAlive()), this.config.keepAliveInterval);
      this.keepAliveTimer.unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.keepAliveTimer);
  }

  /** Listens until the very end: the events of the engine's own shutdown are stored and delivered after a restart. */
  onApplicationShutdown(): void {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
  }

  /** The URLs one event goes to: webhook.urls and webhook.events[event], each once. */
  urlsFor(event: WebhookEventName): string[] {
    return [...new Set([...this.config.urls, ...(this.config.events[event] ?? [])])];
  }

  /** Queues one delivery of this event per URL; never throws, never waits. */
  dispatch(event: WebhookEventName, fields: Record<string, unknown>): void {
    const urls = this.urlsFor(event);
    if (urls.length === 0) return;
    const id = randomUUID();
    const time = typeof fields.time === 'number' ? fields.time : Date.now();
    const body: WebhookBody = { id, event, time: new Date(time).toISOString(), node: this.node };
    for (const [key, value] of Object.entries(fields)) if (!RESERVED.has(key)) body[key] = value;
    for (const url of urls) {
      const delivery: WebhookDelivery = { url, body };
      this.queue
        .add(WEBHOOK_QUEUE, delivery, {
          jobId: `${id}:${urlHash(url)}`,
          attempts: this.config.attempts,
          backoff: { type: 'exponential', delay: this.config.backoff },
        })
        .catch((error: unknown) => this.logger.error(`${event} for ${url} could not be queued: ${describeError(error)}`));
    }
  }

  @JobHandler(WEBHOOK_QUEUE)
  async deliver(delivery: WebhookDelivery, job: JobContext): Promise<void> {
    let response: Response;
    try {
      response = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'm7s-nest-webhook',
          'x-m7s-event': delivery.body.event,
          'x-m7s-event-id': delivery.body.id,
          'x-m7s-attempt': String(job.attempt),
        },
        body: JSON.stringify(delivery.body),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.timeout),
      });
    } catch (error) {
      throw new Error(`${delivery.body.event} to ${delivery.url} (attempt ${job.attempt}): ${describeError(error)}`);
    }
    // Read the answer to the end so the connection can be reused; its content does not matter.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status > 299) {
      throw new Error(`${delivery.body.event} to ${delivery.url} (attempt ${job.attempt}): answered ${response.status}`);
    }
  }

  private keepAlive(): Record<string, unknown> {
    const streams = this.registry.list();
    return {
      time: Date.now(),
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
      streams: streams.length,
      publishers: streams.filter((s) => s.publisher).length,
      subscribers: streams.reduce((n, s) => n + s.subscribers.size, 0),
    };
  }
}

function urlHash(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
  if (error.name === 'TimeoutError') return 'timed out';
  return cause ? `${error.message} (${cause.code ?? cause.message ?? String(cause)})` : error.message;
}
