import type { MigrationInterface } from 'typeorm';
import type { DbType } from '../persistence.config';
import { Initial1795534446038 as SqliteInitial1795534446038 } from './sqlite/1795534446038-Initial';
import { Initial1795534448726 as PostgresInitial1795534448726 } from './postgres/1795534448726-Initial';
import { Initial1795534451253 as MysqlInitial1795534451253 } from './mysql/1795534451253-Initial';
import { AddRtspTransport1795544425133 as SqliteAddRtspTransport1795544425133 } from './sqlite/1795544425133-AddRtspTransport';
import { AddRtspTransport1795544437087 as PostgresAddRtspTransport1795544437087 } from './postgres/1795544437087-AddRtspTransport';
import { AddRtspTransport1795544449891 as MysqlAddRtspTransport1795544449891 } from './mysql/1795544449891-AddRtspTransport';

type MigrationClass = new () => MigrationInterface;

/**
 * Migrations per dialect, oldest first. `npm run migration:generate -- <Name>` (with M7S_DB__TYPE/URL
 * set) writes a new file into the dialect's folder; add its class here.
 */
export const MIGRATIONS: Record<'sqlite' | 'postgres' | 'mysql', MigrationClass[]> = {
  sqlite: [SqliteInitial1795534446038, SqliteAddRtspTransport1795544425133],
  postgres: [PostgresInitial1795534448726, PostgresAddRtspTransport1795544437087],
  mysql: [MysqlInitial1795534451253, MysqlAddRtspTransport1795544449891],
};

export function migrationsFor(type: DbType): MigrationClass[] {
  return MIGRATIONS[type === 'mariadb' ? 'mysql' : type];
}
