import type { EngineEventMap } from '@m7s/core';

/** The engine events a webhook can receive (keep_alive is the webhook's own). */
export const WEBHOOK_STREAM_EVENTS = [
  'publish_start',
  'publish_end',
  'subscribe_start',
  'subscribe_end',
  'record_start',
  'record_end',
  'pull_start',
  'pull_end',
  'push_start',
  'push_end',
] as const satisfies readonly (keyof EngineEventMap)[];

export const WEBHOOK_EVENTS = [...WEBHOOK_STREAM_EVENTS, 'keep_alive'] as const;

export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];

/** The JSON body POSTed for every event: these fields, then the event's own (see README.md, Webhooks). */
export interface WebhookBody {
  /** Unique per event; the same on every URL and every retry, so a receiver can drop duplicates. */
  id: string;
  event: WebhookEventName;
  /** When the event happened, ISO 8601. */
  time: string;
  /** The server's name (config `name`, else the host name). */
  node: string;
  [field: string]: unknown;
}

/** A job of the `webhook` queue: one event to one URL. */
export interface WebhookDelivery {
  url: string;
  body: WebhookBody;
}
