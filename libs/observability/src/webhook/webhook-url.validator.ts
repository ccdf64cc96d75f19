import { registerDecorator } from 'class-validator';
import { WEBHOOK_EVENTS } from './webhook-events';

export function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** A list of http(s) URLs. */
export function IsHttpUrlList(): PropertyDecorator {
  return (target, key) =>
    registerDecorator({
      name: 'isHttpUrlList',
      target: target.constructor,
      propertyName: key as string,
      options: { message: 'must be a list of http:// or https:// URLs' },
      validator: { validate: (v: unknown) => Array.isArray(v) && v.every(isHttpUrl) },
    });
}

/** { <event name>: [http(s) URLs] } with known event names only. */
export function IsWebhookEventUrls(): PropertyDecorator {
  const known = new Set<string>(WEBHOOK_EVENTS);
  return (target, key) =>
    registerDecorator({
      name: 'isWebhookEventUrls',
      target: target.constructor,
      propertyName: key as string,
      options: { message: `must map event names (${WEBHOOK_EVENTS.join(', ')}) to lists of http:// or https:// URLs` },
      validator: {
        validate: (v: unknown) =>
          typeof v === 'object' && v !== null && !Array.isArray(v) && Object.entries(v).every(([name, urls]) => known.has(name) && Array.isArray(urls) && urls.every(isHttpUrl)),
      },
    });
}
