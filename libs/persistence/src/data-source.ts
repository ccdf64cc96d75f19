import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { migrationsFor } from './migrations';
import type { DbConfig } from './persistence.config';

export function dataSourceOptions(config: DbConfig): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: migrationsFor(config.type),
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: config.logging,
  };
  switch (config.type) {
    case 'sqlite': {
      const file = resolve(config.path);
      mkdirSync(dirname(file), { recursive: true });
      // WAL lets API reads run beside the job queue's writes; busy_timeout rides out a brief lock.
      return { ...common, type: 'better-sqlite3', database: file, enableWAL: true, prepareDatabase: (db: { pragma(s: string): unknown }) => void db.pragma('busy_timeout = 5000') };
    }
    case 'postgres':
      // search_path makes the migrations' unqualified statements land in the configured schema too.
      return { ...common, type: 'postgres', url: config.url, schema: config.schema || undefined, extra: config.schema ? { options: `-c search_path=${config.schema}` } : undefined };
    case 'mysql':
    case 'mariadb':
      return { ...common, type: config.type, url: config.url, charset: 'utf8mb4', timezone: 'Z' };
  }
}

/** Opens the database and brings its schema up to date. */
export async function openDatabase(config: DbConfig): Promise<DataSource> {
  if (config.type !== 'sqlite' && !config.url) throw new Error(`db.url is required when db.type is ${config.type}`);
  const dataSource = new DataSource(dataSourceOptions(config));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}
