/**
 * `Logger`: the structured-logging surface spotjobs uses, a subset of pino's, so a pino
 * logger (see `createLogger`) satisfies it and tests can pass a recording one.
 * Bindings given to `child` are added to every line (job id, queue, attempt...).
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}
