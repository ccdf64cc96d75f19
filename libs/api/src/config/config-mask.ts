import type { PlainConfig } from '@m7s/core';

/** What a secret is shown as. */
export const MASK = '***';

const SECRET_NAME = /(secret|password|token)$/i;

function isPlainObject(value: unknown): value is PlainConfig {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether the key at this dotted path holds a secret: auth.jwtSecret, adminPassword, publish/subscribe `key`... */
export function isSecretPath(path: string[]): boolean {
  const key = path[path.length - 1] ?? '';
  if (SECRET_NAME.test(key)) return true;
  const parent = path[path.length - 2];
  return key === 'key' && (parent === 'publish' || parent === 'subscribe');
}

/** A URL with its password replaced by the mask (db.url, redis.url, hook URLs). */
function maskUrl(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*:[^/]*@/i.test(value)) return value;
  try {
    const url = new URL(value);
    if (!url.password) return value;
    url.password = MASK;
    return url.toString().replace(encodeURIComponent(MASK), MASK);
  } catch {
    return value;
  }
}

function maskValue(value: unknown, path: string[]): unknown {
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v, [...path, k])]));
  if (Array.isArray(value)) return value.map((v, i) => maskValue(v, [...path, String(i)]));
  if (typeof value === 'string') {
    if (isSecretPath(path)) return value === '' ? '' : MASK;
    return maskUrl(value);
  }
  return value;
}

/** A copy of a config tree (or part of it, at `path`) with every secret masked. */
export function maskConfig<T>(value: T, path: string[] = []): T {
  return maskValue(value, path) as T;
}

/** Whether a value sent back is a masked secret (a client echoing what GET showed). */
export function isMaskedValue(value: unknown, path: string[]): boolean {
  if (typeof value !== 'string') return false;
  return (isSecretPath(path) && value === MASK) || value.includes(`:${MASK}@`);
}
