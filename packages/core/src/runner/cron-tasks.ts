import { type Logger as CronLogger, createTask, type ScheduledTask, validate } from 'node-cron';
import { ValidationError } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';

/** A scheduled task's body; `signal` aborts when the runner stops. */
export type CronTaskFn = (signal: AbortSignal) => Promise<void>;

export interface CronTaskOptions {
  /** IANA time zone for the expression. Default: the host's. */
  readonly timezone?: string;
}

/** One finished run, as reported by the runner's `task:ran` event. */
export interface CronTaskRun {
  readonly name: string;
  readonly durationMs: number;
  readonly error?: Error;
}

interface Entry {
  readonly name: string;
  readonly task: ScheduledTask;
  running: { readonly controller: AbortController; readonly done: Promise<void> } | undefined;
}

/**
 * The runner's cron tasks, on node-cron 4. Runs of one task never overlap: a tick that
 * finds the previous run still going is skipped (node-cron's `noOverlap`, and our own
 * guard for runs started by hand). Errors are caught and reported, never thrown into
 * node-cron (which would print them to the console). Stopping aborts running tasks.
 *
 * @example
 * ```ts
 * const tasks = new CronTasks({ logger, clock, onRan: (run) => console.log(run) });
 * tasks.add('sweep', '*\/5 * * * *', async (signal) => sweepExpired(signal));
 * tasks.start();
 * tasks.stop();
 * await tasks.settled();
 * ```
 */
export class CronTasks {
  readonly #entries = new Map<string, Entry>();
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #onRan: (run: CronTaskRun) => void;
  readonly #cronLogger: CronLogger;
  #started = false;
  #stopped = false;

  constructor(options: { logger: Logger; clock: Clock; onRan: (run: CronTaskRun) => void }) {
    this.#logger = options.logger;
    this.#clock = options.clock;
    this.#onRan = options.onRan;
    // node-cron's own messages (overlap skipped, missed tick) go to our logger, not the console.
    this.#cronLogger = {
      info: (message) => this.#logger.debug({ source: 'node-cron' }, message),
      warn: (message) => this.#logger.debug({ source: 'node-cron' }, message),
      error: (message, err) => this.#logger.warn({ source: 'node-cron', err }, String(message)),
      debug: (message) => this.#logger.trace({ source: 'node-cron' }, String(message)),
    };
  }

  add(name: string, expression: string, fn: CronTaskFn, options: CronTaskOptions = {}): void {
    if (this.#stopped) throw new ValidationError(`cannot schedule "${name}": the runner is stopping`);
    if (typeof name !== 'string' || name.length === 0) throw new ValidationError('a task needs a name');
    if (this.#entries.has(name)) throw new ValidationError(`a task named "${name}" is already scheduled`);
    if (typeof fn !== 'function') throw new ValidationError(`task "${name}" needs a function`);
    if (!validate(expression))
      throw new ValidationError(`invalid cron expression for "${name}"`, [expression]);

    const entry: Entry = { name, task: undefined as unknown as ScheduledTask, running: undefined };
    const task = createTask(expression, () => this.#run(entry, fn), {
      name,
      noOverlap: true,
      logger: this.#cronLogger,
      ...(options.timezone ? { timezone: options.timezone } : {}),
    });
    (entry as { task: ScheduledTask }).task = task;
    this.#entries.set(name, entry);
    if (this.#started) void task.start();
  }

  /** Starts every task (and any added later). */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    for (const entry of this.#entries.values()) void entry.task.start();
  }

  /** Stops scheduling and aborts running tasks; `settled` waits for them. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const entry of this.#entries.values()) {
      void entry.task.destroy();
      entry.running?.controller.abort(new Error('runner stopping'));
    }
  }

  /** Resolves when no task is running. */
  async settled(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((entry) => entry.running?.done));
  }

  get running(): number {
    let count = 0;
    for (const entry of this.#entries.values()) if (entry.running) count++;
    return count;
  }

  get names(): string[] {
    return [...this.#entries.keys()];
  }

  #run(entry: Entry, fn: CronTaskFn): Promise<void> {
    if (entry.running || this.#stopped) {
      this.#logger.debug({ task: entry.name }, 'task still running, tick skipped');
      return Promise.resolve();
    }
    const controller = new AbortController();
    let finish = () => {};
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    // Marked running before the body starts, so even a synchronous throw clears it after.
    entry.running = { controller, done };
    void this.#execute(entry, fn, controller.signal).finally(finish);
    return done;
  }

  async #execute(entry: Entry, fn: CronTaskFn, signal: AbortSignal): Promise<void> {
    const started = this.#clock.monotonic();
    let error: Error | undefined;
    try {
      await fn(signal);
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
    } finally {
      entry.running = undefined;
    }
    const durationMs = this.#clock.monotonic() - started;
    if (error) this.#logger.warn({ task: entry.name, durationMs, err: error }, 'task failed');
    else this.#logger.debug({ task: entry.name, durationMs }, 'task ran');
    this.#onRan(error ? { name: entry.name, durationMs, error } : { name: entry.name, durationMs });
  }
}
