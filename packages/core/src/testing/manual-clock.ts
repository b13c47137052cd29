import { AbortedError } from '../errors.ts';
import type { Clock, Timer } from '../ports/clock.ts';

interface PendingTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only when a test calls `advance`, so timing logic is tested without
 * sleeping. `jumpWallClock` moves the wall clock alone, as a resume from hibernation does.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const slept = clock.sleep(5_000);
 * await clock.advance(5_000); // slept resolves
 * ```
 */
export class ManualClock implements Clock {
  #monotonic = 0;
  #wallOffset: number;
  #seq = 0;
  #timers: PendingTimer[] = [];

  constructor(startWallMs = Date.UTC(2026, 0, 1)) {
    this.#wallOffset = startWallMs;
  }

  now(): number {
    return this.#wallOffset + this.#monotonic;
  }

  monotonic(): number {
    return this.#monotonic;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortedError({ cause: signal.reason }));
    return new Promise((resolve, reject) => {
      const timer = this.setTimer(ms, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = () => {
        timer.cancel();
        reject(new AbortedError({ cause: signal?.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  setTimer(ms: number, fn: () => void): Timer {
    const timer: PendingTimer = { at: this.#monotonic + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return { cancel: () => this.#remove(timer) };
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.#monotonic + ms;
    for (;;) {
      await settle();
      const next = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.#remove(next);
      this.#monotonic = next.at;
      next.fn();
    }
    this.#monotonic = target;
    await settle();
  }

  /** Moves only the wall clock, as after a hibernation or an NTP step. */
  jumpWallClock(ms: number): void {
    this.#wallOffset += ms;
  }

  /** How many timers are waiting (to assert that nothing was left behind). */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  #remove(timer: PendingTimer): void {
    this.#timers = this.#timers.filter((t) => t !== timer);
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
