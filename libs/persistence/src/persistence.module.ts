import { DynamicModule, Global, Module, OnApplicationShutdown, Injectable } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { SettingsService } from './settings.service';
import { JobStore } from '@m7s/core';
import { TypeormJobStore } from './job-store';

@Injectable()
class CloseDatabase implements OnApplicationShutdown {
  constructor(private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * The database, opened (and migrated) before the app is built so persisted config can apply at boot.
 * Inject repositories with `@InjectRepository(Entity)` and `Repository<Entity>` from this lib.
 */
@Global()
@Module({})
export class PersistenceModule {
  static forRoot(dataSource: DataSource): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSource.options,
          dataSourceFactory: async () => dataSource,
        }),
        TypeOrmModule.forFeature(ENTITIES),
      ],
      providers: [SettingsService, CloseDatabase, { provide: JobStore, useFactory: (ds: DataSource) => new TypeormJobStore(ds), inject: [DataSource] }],
      exports: [TypeOrmModule, SettingsService, JobStore],
    };
  }
}
