import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { createConnection } from 'mysql2/promise';
import type { PlainConfig } from '@m7s/core';

export type TestDbKind = 'sqlite' | 'postgres' | 'mariadb';

/** Every database the API suite runs against. M7S_TEST_DBS=sqlite,postgres narrows it. */
export const TEST_DB_KINDS: TestDbKind[] = ((process.env.M7S_TEST_DBS ?? 'sqlite,postgres,mariadb').split(',') as TestDbKind[]).filter(Boolean);

export const PG_URL = process.env.M7S_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MARIADB_URL = process.env.M7S_TEST_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const REDIS_URL = process.env.M7S_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export interface TestDatabase {
  kind: TestDbKind;
  /** The `db` config section pointing at it. */
  config: PlainConfig;
  /** Drops the schema / database / file. */
  drop(): Promise<void>;
}

/**
 * A fresh, empty database of that kind: a temp SQLite file, a new PostgreSQL schema, or a new MariaDB
 * database, named uniquely so suites can run side by side. A missing server fails the test (never skips).
 */
export async function createTestDatabase(kind: TestDbKind): Promise<TestDatabase> {
  const name = `m7s_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'm7s-db-'));
    return { kind, config: { type: 'sqlite', path: join(dir, 'm7s.db') }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (kind === 'postgres') {
    const admin = async (sql: string) => {
      const client = new PgClient({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };
    await admin(`CREATE SCHEMA "${name}"`);
    return { kind, config: { type: 'postgres', url: PG_URL, schema: name }, drop: () => admin(`DROP SCHEMA IF EXISTS "${name}" CASCADE`) };
  }
  const base = new URL(MARIADB_URL);
  const admin = async (sql: string) => {
    const conn = await createConnection({ host: base.hostname, port: Number(base.port || 3306), user: decodeURIComponent(base.username), password: decodeURIComponent(base.password) });
    try {
      await conn.query(sql);
    } finally {
      await conn.end();
    }
  };
  await admin(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  const url = new URL(MARIADB_URL);
  url.pathname = `/${name}`;
  return { kind, config: { type: 'mariadb', url: url.toString() }, drop: () => admin(`DROP DATABASE IF EXISTS \`${name}\``) };
}
