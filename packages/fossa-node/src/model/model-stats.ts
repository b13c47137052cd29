import type { Clock } from '@spotjobs/core';
import { ValidationError } from '@spotjobs/core';

/** One timer's totals, in milliseconds. */
export type TimerStats = { readonly count: number; readonly total_ms: number; readonly max_ms: number };

/** What a model recorded, as returned with its result (JSON, snake_case like the rest of the wire). */
export type StatsSnapshot = {
  readonly counters: Readonly<Record<string, number>>;
  readonly timers: Readonly<Record<string, TimerStats>>;
};

const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

function checkName(name: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ValidationError('invalid statistic name', [
      `${JSON.stringify(name)} must be 1–128 letters, digits or _ . : -`,
    ]);
  }
}

/**
 * Aye-Aye's `self.stats`, with timers: counters and timers a model records while it runs.
 * `go` logs each one at the end ("Statistic: rows = 12"), and the run returns `snapshot()`
 * with the result. A partitioned parent adds its subtasks' snapshots with `merge`, so its
 * stats are the totals of the whole run. Timers use the monotonic clock.
 *
 * @example
 * ```ts
 * this.stats.count('rows');
 * const rows = await this.stats.time('load', () => loadRows());
 * this.stats.snapshot(); // { counters: { rows: 1 }, timers: { load: { count: 1, total_ms: 12.5, max_ms: 12.5 } } }
 * ```
 */
export class ModelStats {
  readonly #clock: Clock;
  readonly #counters = new Map<string, number>();
  readonly #timers = new Map<string, TimerStats>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Adds `by` (default 1) to counter `name`. */
  count(name: string, by = 1): void {
    checkName(name);
    if (!Number.isFinite(by)) throw new ValidationError('invalid count', [`${name} by ${by} is not finite`]);
    this.#counters.set(name, (this.#counters.get(name) ?? 0) + by);
  }

  /** The value of counter `name` (0 when never counted). */
  counter(name: string): number {
    return this.#counters.get(name) ?? 0;
  }

  /** Starts timing `name`; the returned function stops it, records the duration and answers it (ms). */
  startTimer(name: string): () => number {
    checkName(name);
    const started = this.#clock.monotonic();
    let stopped = false;
    return () => {
      const ms = this.#clock.monotonic() - started;
      if (!stopped) this.#record(name, { count: 1, total_ms: ms, max_ms: ms });
      stopped = true;
      return ms;
    };
  }

  /** Runs `fn`, timing it as `name` whether it returns or throws. */
  async time<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    const stop = this.startTimer(name);
    try {
      return await fn();
    } finally {
      stop();
    }
  }

  /** Adds another snapshot's counters and timers to these (a subtask's, into its parent's). */
  merge(snapshot: StatsSnapshot): void {
    for (const [name, value] of Object.entries(snapshot.counters)) this.count(name, value);
    for (const [name, timer] of Object.entries(snapshot.timers)) {
      checkName(name);
      this.#record(name, timer);
    }
  }

  snapshot(): StatsSnapshot {
    return { counters: Object.fromEntries(this.#counters), timers: Object.fromEntries(this.#timers) };
  }

  /** Each statistic as `name = value`, for the log lines `go` ends with. */
  describe(): string[] {
    const lines = [...this.#counters].map(([name, value]) => `${name} = ${value}`);
    for (const [name, t] of this.#timers) {
      lines.push(
        `${name} = ${t.count} × ${(t.total_ms / Math.max(1, t.count)).toFixed(1)} ms (max ${t.max_ms.toFixed(1)} ms)`,
      );
    }
    return lines;
  }

  #record(name: string, add: TimerStats): void {
    const had = this.#timers.get(name);
    this.#timers.set(
      name,
      had
        ? {
            count: had.count + add.count,
            total_ms: had.total_ms + add.total_ms,
            max_ms: Math.max(had.max_ms, add.max_ms),
          }
        : add,
    );
  }
}
