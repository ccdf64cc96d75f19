import { Logger, LogLevel } from '@nestjs/common';
import { PublishConfig, SubscribeConfig, CoreConfig } from './config.schema';
import { LoadedConfig, PlainConfig, validateSection } from './config.loader';
import { StreamError } from '../stream/stream.errors';

/** Policy keys a URL query may override per stream. Memory bounds are left out on purpose. */
const QUERY_PUBLISH_KEYS = ['publishTimeout', 'idleTimeout', 'delayCloseTimeout', 'kickExisting', 'bufferTime', 'audio', 'video'] as const;
const QUERY_SUBSCRIBE_KEYS = ['waitTimeout', 'audio', 'video', 'transcodeAudio'] as const;

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

const LOG_LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

/**
 * The effective config (loaded at boot, replaced when a change made through the API applies) and the
 * publish/subscribe policy of a protocol and a URL query. Read it at use time to follow such changes.
 */
export class ConfigService {
  private readonly policyCache = new Map<string, PublishConfig | SubscribeConfig>();

  constructor(private loaded: LoadedConfig) {}

  /** What the config was loaded from (to validate a change by loading again). */
  get loadedConfig(): LoadedConfig {
    return this.loaded;
  }

  /**
   * Swaps in a newly loaded config: policies of new sessions, the log level and every section read at use
   * time follow at once; what was read at boot (listeners, database...) keeps its value until a restart.
   */
  replace(loaded: LoadedConfig): void {
    const levelChanged = loaded.core.log.level !== this.loaded.core.log.level;
    this.loaded = loaded;
    this.policyCache.clear();
    if (levelChanged) Logger.overrideLogger(LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(loaded.core.log.level as LogLevel) + 1));
  }

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

  /** The config section holding a wire protocol's publish/subscribe blocks: http-flv and ws-flv read `flv`, rtmps reads `rtmp`. */
  sectionOfProtocol(protocol: string): string {
    return this.loaded.options?.plugins.find((p) => p.protocols.includes(protocol))?.configSection ?? protocol;
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
    const section = protocol && this.sectionOfProtocol(protocol);
    const plain = { ...(raw[block] ?? {}), ...((section && raw[section]?.[block]) || {}), ...fromQuery };
    const problems: string[] = [];
    const result = validateSection(cls, plain, block, problems);
    if (problems.length) throw new StreamError('BAD_QUERY', problems.join('; '));
    if (!hasQuery) this.policyCache.set(cacheKey, result);
    return result;
  }
}
