import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, LoadedConfig } from '@m7s/core';
import { PLUGINS } from './plugins';

@Module({})
export class AppModule {
  static forRoot(config: LoadedConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(config, PLUGINS), ...CoreModule.enabledPluginModules(config, PLUGINS)],
    };
  }
}
