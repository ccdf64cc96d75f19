import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { parse as parseYaml } from 'yaml';
import type { ConfigSection, MediaPlugin } from '../plugin/media-plugin';
import { CoreConfig, PublishConfig, SubscribeConfig } from './config.schema';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export type PlainConfig = Record<string, any>;

export interface LoadConfigOptions {
  /** The user's file; when absent, ./config.yaml is used if it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  plugins: readonly MediaPlugin[];
  /** Platform sections (db, auth, webhook...) validated beside the plugins'. */
  sections?: readonly ConfigSection[];
  /** Changes made through the API, kept in the database: above the environment. */
  persisted?: PlainConfig;
  /** Applied last (tests). */
  overrides?: PlainConfig;
}

export interface LoadedConfig {
  core: CoreConfig;
  /** Validated section per plugin and platform config key. */
  sections: Map<string, object>;
  /** The merged plain tree before validation (for display through the API). */
  raw: PlainConfig;
  /** What it was loaded from, so a change made through the API can be validated by loading again. */
  options?: LoadConfigOptions;
}

/** The directory holding package.json and config/default.yaml, found from this file's location. */
export function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'config', 'default.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('config/default.yaml not found above ' + __dirname);
    dir = parent;
  }
  return dir;
}

function isPlainObject(v: unknown): v is PlainConfig {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(base: PlainConfig, over: PlainConfig): PlainConfig {
  const out: PlainConfig = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (key === '__proto__' || key === 'constructor') continue;
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? deepMerge(out[key], value) : value;
  }
  return out;
}

function readYaml(path: string): PlainConfig {
  const text = readFileSync(path, 'utf8');
  const parsed = parseYaml(text) ?? {};
  if (!isPlainObject(parsed)) throw new ConfigError([`${path}: the top level must be a mapping of sections`]);
  return parsed;
}

/**
 * `M7S_RTMP__LISTEN=:1935` sets rtmp.listen; `M7S_RTMP__TLS__CERT` sets rtmp.tls.cert. Keys match the
 * default tree case-insensitively; values are read as YAML scalars so `true`, `10`, `10s` keep their type.
 */
export function configFromEnv(env: NodeJS.ProcessEnv, defaults: PlainConfig): PlainConfig {
  const out: PlainConfig = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('M7S_') || value === undefined) continue;
    const parts = name.slice(4).split('__').filter(Boolean);
    if (parts.length === 0) continue;
    let target = out;
    let known: PlainConfig | undefined = defaults;
    parts.forEach((part, i) => {
      const key = (known && Object.keys(known).find((k) => k.toLowerCase() === part.toLowerCase())) ?? part.toLowerCase();
      known = known && isPlainObject(known[key]) ? known[key] : undefined;
      if (i === parts.length - 1) target[key] = value === '' ? '' : parseYaml(value);
      else target = target[key] = isPlainObject(target[key]) ? target[key] : {};
    });
  }
  return out;
}

function flatten(errors: ValidationError[], prefix: string, into: string[]): void {
  for (const error of errors) {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) {
      const why = message.startsWith(error.property + ' ') ? message.slice(error.property.length + 1) : message;
      into.push(`${path} = ${JSON.stringify(error.value)}: ${why}`);
    }
    flatten(error.children ?? [], path, into);
  }
}

/** Turns a plain section into its validated class instance, collecting problems under `path`. */
export function validateSection<T extends object>(cls: new () => T, plain: unknown, path: string, problems: string[]): T {
  const instance = plainToInstance(cls, plain ?? {}, { exposeDefaultValues: true }) as T;
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true });
  flatten(errors, path, problems);
  return instance;
}

export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const root = projectRoot();
  const defaults = readYaml(join(root, 'config', 'default.yaml'));
  let merged = defaults;
  const userFile = options.file ?? (existsSync(resolve('config.yaml')) ? resolve('config.yaml') : undefined);
  if (userFile) {
    if (!existsSync(userFile)) throw new ConfigError([`config file ${userFile} does not exist`]);
    merged = deepMerge(merged, readYaml(userFile));
  }
  merged = deepMerge(merged, configFromEnv(options.env ?? process.env, defaults));
  if (options.persisted) merged = deepMerge(merged, options.persisted);
  if (options.overrides) merged = deepMerge(merged, options.overrides);

  const problems: string[] = [];
  const coreKeys = ['http', 'log', 'publish', 'subscribe', 'name'];
  const platformSections = options.sections ?? [];
  const knownKeys = new Set([...coreKeys, ...options.plugins.map((p) => p.configSection), ...platformSections.map((s) => s.configSection)]);
  for (const key of Object.keys(merged)) {
    // Sections of default.yaml whose plugin is not part of this build are ignored; anything else is a typo.
    if (!knownKeys.has(key) && !(key in defaults)) problems.push(`${key}: unknown section`);
  }
  const corePlain = Object.fromEntries(coreKeys.filter((k) => k in merged).map((k) => [k, merged[k]]));
  const core = validateSection(CoreConfig, corePlain, '', problems);

  const sections = new Map<string, object>();
  for (const plugin of options.plugins) {
    const section = validateSection(plugin.configClass, merged[plugin.configSection], plugin.configSection, problems);
    // A protocol's publish/subscribe block overrides the global one key by key; check the result.
    validateSection(PublishConfig, { ...merged.publish, ...(merged[plugin.configSection]?.publish ?? {}) }, `${plugin.configSection}.publish`, problems);
    validateSection(SubscribeConfig, { ...merged.subscribe, ...(merged[plugin.configSection]?.subscribe ?? {}) }, `${plugin.configSection}.subscribe`, problems);
    sections.set(plugin.configSection, section);
  }
  for (const platform of platformSections) {
    sections.set(platform.configSection, validateSection(platform.configClass, merged[platform.configSection], platform.configSection, problems));
  }
  if (problems.length) throw new ConfigError(problems);
  return { core, sections, raw: merged, options };
}
