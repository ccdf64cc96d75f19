import { Injectable, Logger } from '@nestjs/common';
import { AppError, ConfigError, ConfigService, loadConfig, LoadedConfig, PlainConfig, PluginRegistry } from '@m7s/core';
import { CONFIG_OVERRIDES_KEY, SettingsService } from '@m7s/persistence';
import { isMaskedValue, maskConfig } from './config-mask';
import type { ConfigViewDto, ModifyConfigResultDto } from './config.dto';

/** Top-level keys of the engine's own config (the rest are sections of plugins and of the platform). */
const CORE_KEYS = ['name', 'http', 'log', 'publish', 'subscribe'];
/** Changed through the config file only: the API stores its changes in this database. */
const REFUSED_SECTIONS = new Set(['db']);
/** Keys naming a member of every object (__proto__, constructor, toString...) or `prototype`: never config keys. */
function isForbiddenKey(key: string): boolean {
  return key in Object.prototype || key === 'prototype';
}

export interface ConfigProblem {
  key: string;
  value?: unknown;
  reason: string;
}

function isPlainObject(value: unknown): value is PlainConfig {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether every object of the tree is a plain one (a JSON `__proto__` key may have swapped a prototype on the way in). */
function hasPlainPrototypes(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(hasPlainPrototypes);
  if (typeof value !== 'object' || value === null) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && Object.values(value).every(hasPlainPrototypes);
}

/** Dotted paths of the leaves of a change (an empty object or an array is a leaf). */
function leafPaths(tree: PlainConfig, prefix: string[] = []): string[][] {
  return Object.entries(tree).flatMap(([key, value]) =>
    isPlainObject(value) && Object.keys(value).length > 0 ? leafPaths(value, [...prefix, key]) : [[...prefix, key]],
  );
}

function valueAt(tree: unknown, path: string[]): unknown {
  let node = tree;
  for (const key of path) {
    if (!isPlainObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** The stored overrides with a change applied: objects merge key by key, null removes a key (and a section left empty). */
function applyChange(base: PlainConfig, change: PlainConfig): PlainConfig {
  const out: PlainConfig = { ...base };
  for (const [key, value] of Object.entries(change)) {
    if (isForbiddenKey(key)) continue;
    if (value === null) delete out[key];
    else if (isPlainObject(value)) {
      const merged = applyChange(isPlainObject(out[key]) ? out[key] : {}, value);
      if (Object.keys(merged).length > 0) out[key] = merged;
      else delete out[key];
    } else out[key] = value;
  }
  return out;
}

/** `publish.waitTimeout = "x": must be a duration` -> {key, value, reason}. */
function toProblem(text: string, tree: PlainConfig): ConfigProblem {
  const eq = text.indexOf(' = ');
  if (eq < 0) {
    const colon = text.indexOf(': ');
    return colon < 0 ? { key: '', reason: text } : { key: text.slice(0, colon), reason: text.slice(colon + 2) };
  }
  const key = text.slice(0, eq);
  const value = valueAt(tree, key.split('.'));
  const prefix = `${key} = ${JSON.stringify(value)}: `;
  return { key, value: maskConfig(value, key.split('.')), reason: text.startsWith(prefix) ? text.slice(prefix.length) : text.slice(eq + 3) };
}

/**
 * The config through the API: the effective values (secrets masked) and changes that are validated like
 * the config files (by loading the whole config again), stored in the database (applied again at every
 * start) and applied at once where the setting is read at use time.
 */
@Injectable()
export class ConfigApiService {
  private readonly logger = new Logger('ConfigApi');
  /** Changes are applied one after the other. */
  private pending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: ConfigService,
    private readonly settings: SettingsService,
    private readonly plugins: PluginRegistry,
  ) {}

  /** The effective section `name`, or the whole config without a name. */
  async get(name?: string): Promise<ConfigViewDto> {
    const raw = this.config.raw;
    const persisted = (await this.settings.get<PlainConfig>(CONFIG_OVERRIDES_KEY)) ?? {};
    if (!name) return { name: '', value: maskConfig(raw), modified: maskConfig(persisted) };
    if (!this.isKnownSection(name)) throw new AppError('NOT_FOUND', `no config section ${JSON.stringify(name.slice(0, 64))}`, { sections: this.sectionNames() });
    return { name, value: maskConfig(raw[name] ?? null, [name]), modified: maskConfig(persisted[name] ?? null, [name]) };
  }

  sectionNames(): string[] {
    return [...new Set([...CORE_KEYS, ...this.config.loadedConfig.sections.keys()])].sort();
  }

  /** Changes keys of one section: `modifySection('subscribe', {waitTimeout: '5s'})`. */
  modifySection(name: string, values: PlainConfig): Promise<ModifyConfigResultDto> {
    if (!isPlainObject(values)) throw new AppError('INVALID_ARGUMENT', 'values must be an object of keys to change');
    return this.modify({ [name]: values });
  }

  /** Changes a partial tree of sections. */
  modify(changes: PlainConfig): Promise<ModifyConfigResultDto> {
    const run = this.pending.then(() => this.apply(changes));
    this.pending = run.catch(() => undefined);
    return run;
  }

  private async apply(changes: PlainConfig): Promise<ModifyConfigResultDto> {
    this.check(changes);
    const current = this.config.loadedConfig;
    if (!current.options) throw new AppError('FAILED_PRECONDITION', 'this config was not loaded from files; it cannot be changed');
    const stored = (await this.settings.get<PlainConfig>(CONFIG_OVERRIDES_KEY)) ?? {};
    const next = applyChange(stored, changes);
    let loaded: LoadedConfig;
    try {
      loaded = loadConfig({ ...current.options, persisted: next });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const all = error.problems.map((p) => toProblem(p, changes));
      // A bad global publish/subscribe key also fails each protocol's block that inherits it: report it once.
      const problems = all.filter((p) => !all.some((q) => q !== p && q.key && p.key.endsWith(`.${q.key}`) && p.reason.endsWith(q.reason)));
      const byKey = new Map<string, string[]>();
      for (const p of problems) byKey.set(p.key, [...(byKey.get(p.key) ?? []), p.reason]);
      const message = [...byKey].map(([key, reasons]) => (key ? `${key}: ${reasons.join(', ')}` : reasons.join(', '))).join('; ');
      throw new AppError('INVALID_ARGUMENT', `invalid configuration: ${message}`, { problems });
    }
    const result: ModifyConfigResultDto = { success: true, applied: [], restartRequired: [], unchanged: [] };
    for (const path of leafPaths(changes)) {
      const key = path.join('.');
      if (JSON.stringify(valueAt(current.raw, path)) === JSON.stringify(valueAt(loaded.raw, path))) result.unchanged.push(key);
      else if (this.appliesLive(path)) result.applied.push(key);
      else result.restartRequired.push(key);
    }
    await this.settings.set(CONFIG_OVERRIDES_KEY, next);
    this.config.replace(loaded);
    this.logger.log({ msg: 'config changed through the API', applied: result.applied, restartRequired: result.restartRequired });
    return result;
  }

  /** Refuses what must not be stored: unknown sections, db, masked secrets sent back, an empty change. */
  private check(changes: PlainConfig): void {
    if (!isPlainObject(changes) || Object.keys(changes).length === 0) throw new AppError('INVALID_ARGUMENT', 'nothing to change');
    for (const section of Object.keys(changes)) {
      if (REFUSED_SECTIONS.has(section)) throw new AppError('INVALID_ARGUMENT', `the ${section} section cannot be changed through the API (it is where API changes are stored); edit the config file`, { key: section });
      if (!this.isKnownSection(section)) throw new AppError('INVALID_ARGUMENT', `unknown config section ${JSON.stringify(section.slice(0, 64))}`, { key: section, sections: this.sectionNames() });
    }
    if (!hasPlainPrototypes(changes)) throw new AppError('INVALID_ARGUMENT', 'invalid keys (__proto__, constructor) in the change');
    for (const path of leafPaths(changes)) {
      const key = path.join('.');
      if (path.some(isForbiddenKey)) throw new AppError('INVALID_ARGUMENT', `invalid key ${key}`, { key });
      const value = valueAt(changes, path);
      if (isPlainObject(value) && Object.keys(value).length === 0) throw new AppError('INVALID_ARGUMENT', `${key}: an empty object changes nothing`, { key });
      if (value === null && valueAt(this.config.raw, path) === undefined) throw new AppError('INVALID_ARGUMENT', `${key}: unknown key, nothing to reset`, { key });
      if (isMaskedValue(value, path)) throw new AppError('INVALID_ARGUMENT', `${key}: that is the masked value; send the real secret or leave the key out`, { key });
    }
  }

  private isKnownSection(name: string): boolean {
    return CORE_KEYS.includes(name) || this.config.loadedConfig.sections.has(name);
  }

  /**
   * Keys read at use time: publish/subscribe policies (global and per protocol; new sessions get them),
   * the log level, the node name and http.cors. Listeners, the database, Redis, queues, plugin
   * enable flags and sections read when a module starts take effect at the next start.
   */
  private appliesLive(path: string[]): boolean {
    const [section, key, sub] = path;
    // streamAuth is read at every publish/play.
    if (section === 'name' || section === 'publish' || section === 'subscribe' || section === 'streamAuth') return true;
    if (section === 'log') return key === 'level';
    if (section === 'http') return key === 'cors';
    const isPlugin = this.plugins.plugins.some((p) => p.configSection === section);
    return isPlugin && (key === 'publish' || key === 'subscribe') && (sub !== undefined || path.length === 2);
  }
}
