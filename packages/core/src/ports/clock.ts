/**
 * `Clock`: time as spotjobs sees it, injected so tests drive time instead of sleeping.
 * `now` is the wall clock (may jump: NTP, hibernation); `monotonic` never jumps, and the
 * gap between the two moving differently is how a resume from hibernation is detected.
 */
export interface Clock {
  /** Wall-clock time, epoch ms. */
  now(): number;
  /** Monotonic time in ms from an arbitrary origin. */
  monotonic(): number;
  /** Resolves after `ms`; rejects with `AbortedError` when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` once after `ms`, unless cancelled. */
  setTimer(ms: number, fn: () => void): Timer;
}

export interface Timer {
  cancel(): void;
}
