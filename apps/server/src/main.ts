import { ConfigError } from '@m7s/core';
import { createServer } from './bootstrap';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i >= 0) return process.argv[i + 1];
  const inline = process.argv.find((a) => a.startsWith(name + '='));
  return inline?.slice(name.length + 1);
}

createServer({ configFile: argValue('--config') }).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`m7s-nest: ${error.message}\n`);
  } else {
    process.stderr.write(`m7s-nest: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  }
  process.exit(1);
});
