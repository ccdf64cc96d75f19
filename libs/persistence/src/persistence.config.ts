import { IsBoolean, IsIn, IsString } from 'class-validator';

export type DbType = 'sqlite' | 'postgres' | 'mysql' | 'mariadb';

/** `db` section: where users, proxies, aliases, recordings, jobs and settings live. */
export class DbConfig {
  /** sqlite (embedded file) | postgres | mysql | mariadb */
  @IsIn(['sqlite', 'postgres', 'mysql', 'mariadb']) type: DbType = 'sqlite';
  /** SQLite file, relative to the working directory. */
  @IsString() path = 'data/m7s.db';
  /** postgres://user:pass@host:5432/db or mysql://user:pass@host:3306/db */
  @IsString() url = '';
  /** PostgreSQL schema (empty = the server's default, usually public). */
  @IsString() schema = '';
  /** Log every SQL statement (debug). */
  @IsBoolean() logging = false;
}
