/**
 * `npm run migration:generate -- <Name>`: diffs the entities against the database named by the config
 * (M7S_DB__TYPE, M7S_DB__URL...) and writes the migration into that dialect's folder.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '@m7s/core';
import { DbConfig } from '@m7s/persistence';

const name = process.argv[2];
if (!name) {
  console.error('usage: npm run migration:generate -- <Name>');
  process.exit(2);
}
const db = loadConfig({ plugins: [], sections: [{ configSection: 'db', configClass: DbConfig }] }).sections.get('db') as DbConfig;
const dialect = db.type === 'mariadb' ? 'mysql' : db.type;
const root = join(__dirname, '..');
const result = spawnSync(
  process.execPath,
  ['-r', '@swc-node/register', join(root, 'node_modules/typeorm/cli.js'), 'migration:generate', '-d', join(root, 'ormconfig.ts'), join(root, 'libs/persistence/src/migrations', dialect, name)],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
