import { ConsoleLogger, LogLevel } from '@nestjs/common';
import type { LogConfig } from '../config/config.schema';

const ORDER: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

/** Structured logs: one JSON object per line (format json) or Nest's coloured text (format pretty). */
export function createLogger(config: LogConfig): ConsoleLogger {
  const levels = ORDER.slice(0, ORDER.indexOf(config.level as LogLevel) + 1);
  return new ConsoleLogger({ json: config.format === 'json', logLevels: levels, colors: config.format === 'pretty' });
}
