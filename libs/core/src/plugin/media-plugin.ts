import type { DynamicModule, Type } from '@nestjs/common';
import type { PluginSectionConfig } from '../config/config.schema';

/** A top-level config section outside the engine's own (db, auth, webhook...): validated at boot like a plugin's. */
export interface ConfigSection {
  configSection: string;
  /** class-validator class for that section, defaults as field initializers. */
  configClass: new () => object;
}

/**
 * A protocol module in Monibuca's sense of a plugin: it names itself and its config section, and is
 * left out whole when its section says `enable: false`. The app lists plugins; the engine never
 * names one.
 */
export interface MediaPlugin {
  name: string;
  version: string;
  /** The top-level key of its settings in the config files. */
  configSection: string;
  /** Wire protocol names its sessions report (ClientInfo.protocol), whose publish/subscribe policy is read from its section. */
  protocols: readonly string[];
  /** class-validator class for that section (extends PluginSectionConfig, defaults as field initializers). */
  configClass: new () => PluginSectionConfig;
  /** The Nest module that implements it; imported only when enabled. */
  module: Type<unknown> | DynamicModule;
}

export interface LoadedPlugin {
  name: string;
  version: string;
  configSection: string;
  enabled: boolean;
}
