import { PublishConfig, SubscribeConfig, CoreConfig } from './config.schema';
import { LoadedConfig, PlainConfig, validateSection } from './config.loader';
import { StreamError } from '../stream/stream.errors';

/** Policy keys a URL query may override per stream. Memory bounds are left out on purpose. */
const QUERY_PUBLISH_KEYS = ['publishTimeout', 'idleTimeout', 'delayCloseTimeout', 'kickExisting', 'bufferTime', 'audio', 'video'] as const;
const QUERY_SUBSCRIBE_KEYS = ['waitTimeout', 'audio', 'video'] as const;

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** Config as loaded at boot; the effective publish/subscribe policy of a protocol and a URL query. */
export class ConfigService {
  private readonly policyCache = new Map<string, PublishConfig | SubscribeConfig>();

  constructor(private readonly loaded: LoadedConfig) {}

  get core(): CoreConfig {
    return this.loaded.core;
  }

  get raw(): PlainConfig {
    return this.loaded.raw;
  }

  /** The validated section of a plugin (its own config class instance). */
  section<T extends object>(name: string): T {
    const section = this.loaded.sections.get(name);
    if (!section) throw new Error(`no config section ${name}`);
    return section as T;
  }

  publishPolicy(protocol?: string, query?: URLSearchParams): PublishConfig {
    return this.policy('publish', PublishConfig, QUERY_PUBLISH_KEYS, protocol, query);
  }

  subscribePolicy(protocol?: string, query?: URLSearchParams): SubscribeConfig {
    return this.policy('subscribe', SubscribeConfig, QUERY_SUBSCRIBE_KEYS, protocol, query);
  }

  private policy<T extends PublishConfig | SubscribeConfig>(
    block: 'publish' | 'subscribe',
    cls: new () => T,
    queryKeys: readonly string[],
    protocol: string | undefined,
    query: URLSearchParams | undefined,
  ): T {
    const fromQuery: PlainConfig = {};
    const defaults = new cls() as Record<string, unknown>;
    for (const key of queryKeys) {
      const value = query?.get(key);
      if (value === null || value === undefined) continue;
      if (typeof defaults[key] === 'boolean') {
        if (TRUE.has(value.toLowerCase())) fromQuery[key] = true;
        else if (FALSE.has(value.toLowerCase())) fromQuery[key] = false;
        else throw new StreamError('BAD_QUERY', `query ${key}=${value}: must be 0 or 1`);
      } else fromQuery[key] = value;
    }
    const cacheKey = `${block}:${protocol ?? ''}`;
    const hasQuery = Object.keys(fromQuery).length > 0;
    if (!hasQuery) {
      const cached = this.policyCache.get(cacheKey);
      if (cached) return cached as T;
    }
    const raw = this.loaded.raw;
    const plain = { ...(raw[block] ?? {}), ...((protocol && raw[protocol]?.[block]) || {}), ...fromQuery };
    const problems: string[] = [];
    const result = validateSection(cls, plain, block, problems);
    if (problems.length) throw new StreamError('BAD_QUERY', problems.join('; '));
    if (!hasQuery) this.policyCache.set(cacheKey, result);
    return result;
  }
}
