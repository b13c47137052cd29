import type { Clock } from '../ports/clock.ts';
import type { InterruptionSource, WatchOptions } from '../ports/interruption-source.ts';
import { integerProblem, throwIfProblems } from '../ports/validation.ts';
import { systemClock } from '../time/system-clock.ts';
import { deliverNotice } from './deliver-notice.ts';

export interface SignalInterruptionSourceOptions {
  /** Default `['SIGTERM']` (Fargate Spot, ECS, Batch, `systemctl stop`); add `SIGINT` for a terminal. */
  readonly signals?: readonly NodeJS.Signals[];
  /**
   * How long the platform waits between the signal and SIGKILL, 0–3 600 000 ms; default
   * 30 000 (ECS/Fargate `stopTimeout` default; its maximum is 120 s; systemd's
   * `TimeoutStopSec` defaults to 90 s). The notice's `at` is the signal's arrival plus this.
   */
  readonly stopTimeoutMs?: number;
  readonly clock?: Clock;
}

/**
 * Turns a termination signal into a `terminate` notice due `stopTimeoutMs` after it arrived.
 * One notice per `watch`: a repeated signal adds nothing and, while watching, no longer
 * kills the process. The listeners are removed when the watch's signal aborts, after which
 * a further signal gets its usual effect (Node's default: exit at once) again.
 *
 * @example
 * ```ts
 * const sigterm = new SignalInterruptionSource({ stopTimeoutMs: 120_000 }); // task stopTimeout: 120
 * void sigterm.watch({ notify: (n) => logger.info({ at: n.at }, 'stopping'), onError: console.warn, signal });
 * ```
 */
export class SignalInterruptionSource implements InterruptionSource {
  readonly name = 'signal';
  readonly #signals: readonly NodeJS.Signals[];
  readonly #stopTimeoutMs: number;
  readonly #clock: Clock;

  constructor(options: SignalInterruptionSourceOptions = {}) {
    const signals = options.signals ?? ['SIGTERM'];
    const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
    throwIfProblems('invalid signal interruption source options', [
      Array.isArray(signals) && signals.length > 0 ? undefined : 'signals must be a non-empty array',
      ...(Array.isArray(signals) ? signals : []).map((s) =>
        typeof s === 'string' && /^SIG[A-Z0-9]+$/.test(s) && s !== 'SIGKILL' && s !== 'SIGSTOP'
          ? undefined
          : `signals: ${String(s)} cannot be listened to`,
      ),
      integerProblem('stopTimeoutMs', stopTimeoutMs, 0, 3_600_000),
    ]);
    this.#signals = [...new Set(signals)];
    this.#stopTimeoutMs = stopTimeoutMs;
    this.#clock = options.clock ?? systemClock;
  }

  watch(options: WatchOptions): Promise<void> {
    if (options.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let notified = false;
      const onSignal = (): void => {
        if (notified) return;
        notified = true;
        void deliverNotice(options, {
          kind: 'terminate',
          at: this.#clock.now() + this.#stopTimeoutMs,
          source: this.name,
        });
      };
      for (const name of this.#signals) process.on(name, onSignal);
      options.signal.addEventListener(
        'abort',
        () => {
          for (const name of this.#signals) process.off(name, onSignal);
          resolve();
        },
        { once: true },
      );
    });
  }
}
