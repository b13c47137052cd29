/**
 * Measures how late the event loop runs a repeating timer: a loop blocked by a sync call
 * (a CPU-bound handler, a runaway regex) fires it late by about the time it was blocked.
 * The timer is unref'd so it never keeps a process alive.
 *
 * @example
 * ```ts
 * const lag = new EventLoopLag();
 * if (lag.lagMs() > 5_000) markUnhealthy();
 * lag.stop();
 * ```
 */
export class EventLoopLag {
  readonly #intervalMs: number;
  readonly #timer: NodeJS.Timeout;
  #lastTick = performance.now();
  #lastLag = 0;

  constructor(intervalMs = 500) {
    this.#intervalMs = intervalMs;
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#lastLag = Math.max(0, now - this.#lastTick - this.#intervalMs);
      this.#lastTick = now;
    }, intervalMs);
    this.#timer.unref();
  }

  /**
   * The lag of the last tick, or how overdue the next one is if that is worse (a caller
   * may run right after a block, before the late timer had its turn).
   */
  lagMs(): number {
    const overdue = performance.now() - this.#lastTick - this.#intervalMs;
    return Math.round(Math.max(this.#lastLag, overdue, 0));
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
