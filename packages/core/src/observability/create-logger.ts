import pino from 'pino';
import type { Logger } from '../ports/logger.ts';

export interface CreateLoggerOptions {
  readonly name?: string;
  /** pino level; default `info`, or `LOG_LEVEL` as read by the deployable's config. */
  readonly level?: string;
  /** File descriptor or path to write to; default stdout. */
  readonly destination?: number | string;
}

/**
 * A pino logger that writes synchronously: a spot host or a frozen container may die
 * between two event-loop turns, and an async buffer would lose exactly the last lines
 * that explain why.
 *
 * @example
 * ```ts
 * const logger = createLogger({ name: 'compile-worker' });
 * logger.child({ jobId }).info('build started');
 * ```
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger & { flush(): void } {
  const destination = pino.destination({ dest: options.destination ?? 1, sync: true });
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/** A logger that discards everything, for libraries used without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
