import type { Logger } from '../ports/logger.ts';

export interface LogLine {
  readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  readonly msg: string | undefined;
  readonly [key: string]: unknown;
}

/**
 * A `Logger` that keeps every line (with its child bindings merged in), so tests can
 * assert what was logged and at which level.
 *
 * @example
 * ```ts
 * const logger = recordingLogger();
 * logger.child({ jobId: 'j1' }).warn('slow');
 * expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'warn', jobId: 'j1' }));
 * ```
 */
export function recordingLogger(
  lines: LogLine[] = [],
  bindings: Record<string, unknown> = {},
): Logger & {
  lines: LogLine[];
} {
  const log =
    (level: LogLine['level']) =>
    (objOrMsg: object | string, msg?: string): void => {
      if (typeof objOrMsg === 'string') lines.push({ ...bindings, level, msg: objOrMsg });
      else lines.push({ ...bindings, ...objOrMsg, level, msg });
    };
  return {
    lines,
    trace: log('trace'),
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    fatal: log('fatal'),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}
