import { BeforeApplicationShutdown, DynamicModule, Global, Injectable, Module } from '@nestjs/common';
import { ConfigService } from './config/config.service';
import type { LoadedConfig } from './config/config.loader';
import { EngineEvents } from './events/engine-events';
import type { MediaPlugin } from './plugin/media-plugin';
import { PluginRegistry } from './plugin/plugin-registry';
import { StreamRegistry } from './stream/stream-registry';
import { RelayDrivers } from './relay/relay-driver';

@Injectable()
class EngineShutdown implements BeforeApplicationShutdown {
  constructor(private readonly registry: StreamRegistry) {}

  /** Before listeners close: end every publisher and player so long-lived responses do not hold the server open. */
  beforeApplicationShutdown(): void {
    this.registry.shutdown();
  }
}

/** The engine: config, event bus, stream registry and the list of plugins; global so every protocol module can inject them. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: LoadedConfig, plugins: readonly MediaPlugin[]): DynamicModule {
    const configService = new ConfigService(config);
    const pluginRegistry = new PluginRegistry(
      plugins.map((p) => ({
        name: p.name,
        version: p.version,
        configSection: p.configSection,
        enabled: configService.section<{ enable: boolean }>(p.configSection).enable,
      })),
    );
    return {
      module: CoreModule,
      providers: [
        { provide: ConfigService, useValue: configService },
        { provide: PluginRegistry, useValue: pluginRegistry },
        EngineEvents,
        { provide: StreamRegistry, useFactory: (events: EngineEvents) => new StreamRegistry(configService, events), inject: [EngineEvents] },
        EngineShutdown,
        RelayDrivers,
      ],
      exports: [ConfigService, PluginRegistry, EngineEvents, StreamRegistry, RelayDrivers],
    };
  }

  /** The plugin modules to import: only the enabled ones. */
  static enabledPluginModules(config: LoadedConfig, plugins: readonly MediaPlugin[]) {
    return plugins
      .filter((p) => (config.sections.get(p.configSection) as { enable?: boolean } | undefined)?.enable !== false)
      .map((p) => p.module);
  }
}
