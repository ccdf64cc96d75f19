/**
 * The DataSource for the TypeORM CLI (npm run migration:generate|run|revert). The database comes from the
 * same config as the server (config/default.yaml < ./config.yaml < M7S_DB__* env), so
 * `M7S_DB__TYPE=postgres M7S_DB__URL=postgres://... npm run migration:generate -- Name` writes the
 * PostgreSQL migration into libs/persistence/src/migrations/postgres.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '@m7s/core';
import { dataSourceOptions, DbConfig } from '@m7s/persistence';

const config = loadConfig({ plugins: [], sections: [{ configSection: 'db', configClass: DbConfig }] });
export default new DataSource(dataSourceOptions(config.sections.get('db') as DbConfig));
