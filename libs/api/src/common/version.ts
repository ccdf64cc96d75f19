import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '@m7s/core';

let cached: string | undefined;

/** The server's version (package.json). */
export function serverVersion(): string {
  if (cached) return cached;
  try {
    cached = (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
