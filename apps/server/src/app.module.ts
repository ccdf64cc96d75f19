import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, LoadedConfig, QueueModule } from '@m7s/core';
import { ApiModule } from '@m7s/api';
import { AuthModule } from '@m7s/auth';
import { ObservabilityModule } from '@m7s/observability';
import { DataSource, PersistenceModule } from '@m7s/persistence';
import { ProxyModule } from '@m7s/proxy';
import { RecordModule } from '@m7s/record';
import { StorageModule } from '@m7s/storage';
import { TranscodeModule } from '@m7s/transcode';
import { PLUGINS } from './plugins';

@Module({})
export class AppModule {
  static forRoot(config: LoadedConfig, dataSource: DataSource): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, PLUGINS),
        PersistenceModule.forRoot(dataSource),
        QueueModule,
        AuthModule,
        ObservabilityModule,
        ApiModule,
        ProxyModule,
        StorageModule,
        RecordModule,
        TranscodeModule,
        ...CoreModule.enabledPluginModules(config, PLUGINS),
      ],
    };
  }
}
