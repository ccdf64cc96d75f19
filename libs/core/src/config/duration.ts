const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration as written in config and URL queries: "500ms", "10s", "1.5m", "2h", "7d", or a bare
 * number of seconds. Returns milliseconds, or NaN when the text is not a duration.
 */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number') return value >= 0 ? value * 1000 : NaN;
  if (typeof value !== 'string') return NaN;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!match) return NaN;
  return Number(match[1]) * UNITS[match[2] ?? 's'];
}

/** Parses "1mb", "512kb", "4096" (bytes). Returns NaN when invalid. */
export function parseByteSize(value: unknown): number {
  if (typeof value === 'number') return value >= 0 ? value : NaN;
  if (typeof value !== 'string') return NaN;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
  if (!match) return NaN;
  const mult = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? 'b').toLowerCase() as 'b'];
  return Math.floor(Number(match[1]) * mult);
}

/** Parses a listen address ":1935", "0.0.0.0:1935", "[::1]:1935", "1935" into host and port. */
export function parseListen(value: string): { host: string | undefined; port: number } {
  const match = /^(?:(\[[^\]]+\]|[^:]*):)?(\d{1,5})$/.exec(value.trim());
  if (!match) throw new Error(`not a listen address: ${value}`);
  const port = Number(match[2]);
  if (port > 65535) throw new Error(`port out of range: ${value}`);
  const host = match[1] ? match[1].replace(/^\[|\]$/g, '') : undefined;
  return { host, port };
}
