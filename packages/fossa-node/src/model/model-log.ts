import type { Logger } from '@spotjobs/core';
import { ValidationError } from '@spotjobs/core';

/** Aye-Aye's log levels, in order of severity. */
export const modelLogLevels = ['DEBUG', 'PROGRESS', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type ModelLogLevel = (typeof modelLogLevels)[number];

// PROGRESS has no pino level of its own: it is an info line that says so in `modelLevel`.
const PINO_LEVEL = {
  DEBUG: 'debug',
  PROGRESS: 'info',
  INFO: 'info',
  WARNING: 'warn',
  ERROR: 'error',
  CRITICAL: 'fatal',
} as const satisfies Record<ModelLogLevel, keyof Logger>;

/** Whether `level` is one of Aye-Aye's log levels. */
export function isModelLogLevel(level: unknown): level is ModelLogLevel {
  return typeof level === 'string' && (modelLogLevels as readonly string[]).includes(level);
}

/**
 * Writes one model log line through a `Logger` (already bound with the task id): Aye-Aye's
 * level goes in `modelLevel`, mapped onto the nearest pino level, so a node's JSON logs keep
 * both. An unknown level is a programming error and throws `ValidationError`.
 *
 * @example
 * ```ts
 * writeModelLog(logger, 'WARNING', 'row 12 skipped'); // logger.warn({ modelLevel: 'WARNING' }, 'row 12 skipped')
 * ```
 */
export function writeModelLog(logger: Logger, level: ModelLogLevel, msg: string): void {
  if (!isModelLogLevel(level)) {
    throw new ValidationError('invalid log level', [
      `${JSON.stringify(level)} is not one of ${modelLogLevels.join(', ')}`,
    ]);
  }
  logger[PINO_LEVEL[level]]({ modelLevel: level }, msg);
}
