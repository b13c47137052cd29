import { AbortedError, BackendError } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { InterruptionSource, WatchOptions } from '../ports/interruption-source.ts';
import { integerProblem, throwIfProblems } from '../ports/validation.ts';
import { systemClock } from '../time/system-clock.ts';
import { deliverNotice } from './deliver-notice.ts';
import { type MarkerState, markerTime, statMarker } from './marker-file.ts';

/** Where `ec2-hibinit-agent`'s system-sleep hook records each resume from hibernation (epoch seconds). */
export const hibernationResumeMarker = '/var/run/hibernate/resumed_at';

export interface ResumeDetectorOptions {
  readonly clock?: Clock;
  /** Time between checks, 10–60 000 ms; default 1 000. */
  readonly intervalMs?: number;
  /** Time unaccounted for beyond which a check reports a resume, ms ≥ 1; default 5 000. */
  readonly jumpThresholdMs?: number;
  /** A file whose appearance or change means "resumed"; default the hibernation agent's; `false`: none. */
  readonly markerFile?: string | false;
}

/**
 * Notices that this process was away (its host suspended or hibernated, or the process
 * itself frozen) and reports a `resume`, so the runner re-validates every lease before
 * writing anything. Three observations, checked every `intervalMs`:
 *
 * ```
 *  check         (host asleep: CLOCK_MONOTONIC stands still)        check
 *  |-- monotonic +interval -----------------------------------------|   gap  = Δwall − Δmono
 *  |-- wall      +interval + away ----------------------------------|   late = Δmono − interval
 * ```
 *
 * - wall vs monotonic (`gap`): Linux's monotonic clock does not count suspend, so after a
 *   hibernation the wall clock has moved further; a forward NTP step looks the same, and a
 *   re-validation is cheap, so it counts too.
 * - lateness (`late`): SIGSTOP (the chaos tests' stand-in for hibernation) stops neither clock,
 *   but the check runs long after it was due; so does an event loop stalled for seconds, which
 *   starves heartbeats just the same.
 * - the marker file: created or changed after `watch` began (its state at the start is ignored).
 *
 * When `gap` or `late` exceeds `jumpThresholdMs`, `awayMs` is their sum. Observations within
 * `jumpThresholdMs` of a reported resume are folded into it (the clock and the marker
 * usually see the same wake-up).
 *
 * @example
 * ```ts
 * const resumes = new ResumeDetector({ intervalMs: 1_000, jumpThresholdMs: 5_000 });
 * void resumes.watch({ notify: (n) => logger.warn({ awayMs: n.kind === 'resume' ? n.awayMs : undefined }, 'resumed'),
 *   onError: (err) => logger.warn({ err }, 'resume check failed'), signal });
 * ```
 */
export class ResumeDetector implements InterruptionSource {
  readonly name = 'resume-detector';
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #thresholdMs: number;
  readonly #markerFile: string | undefined;

  constructor(options: ResumeDetectorOptions = {}) {
    const intervalMs = options.intervalMs ?? 1_000;
    const jumpThresholdMs = options.jumpThresholdMs ?? 5_000;
    const markerFile = options.markerFile ?? hibernationResumeMarker;
    throwIfProblems('invalid resume detector options', [
      integerProblem('intervalMs', intervalMs, 10, 60_000),
      integerProblem('jumpThresholdMs', jumpThresholdMs, 1, 86_400_000),
      markerFile === false || (typeof markerFile === 'string' && markerFile.length > 0)
        ? undefined
        : 'markerFile must be a path or false',
    ]);
    this.#clock = options.clock ?? systemClock;
    this.#intervalMs = intervalMs;
    this.#thresholdMs = jumpThresholdMs;
    this.#markerFile = markerFile === false ? undefined : markerFile;
  }

  async watch(options: WatchOptions): Promise<void> {
    const { signal } = options;
    const clock = this.#clock;
    const marker = {
      state: undefined as MarkerState | undefined,
      lastErrorCode: undefined as string | undefined,
    };
    try {
      if (this.#markerFile) marker.state = await this.#statMarker(this.#markerFile, marker, options);
    } catch {
      return; // aborted
    }
    let lastResumeAt = Number.NEGATIVE_INFINITY; // monotonic
    let wall = clock.now();
    let monotonic = clock.monotonic();
    const report = (at: number, awayMs: number | undefined): void => {
      const now = clock.monotonic();
      if (now - lastResumeAt < this.#thresholdMs) return;
      lastResumeAt = now;
      void deliverNotice(options, {
        kind: 'resume',
        at,
        ...(awayMs === undefined ? {} : { awayMs }),
        source: this.name,
      });
    };
    for (;;) {
      try {
        await clock.sleep(this.#intervalMs, signal);
      } catch {
        return; // aborted
      }
      const nowWall = clock.now();
      const nowMonotonic = clock.monotonic();
      const gap = nowWall - wall - (nowMonotonic - monotonic);
      const late = nowMonotonic - monotonic - this.#intervalMs;
      if (gap > this.#thresholdMs || late > this.#thresholdMs)
        report(nowWall, Math.max(0, gap) + Math.max(0, late));
      if (this.#markerFile) {
        try {
          const state = await this.#statMarker(this.#markerFile, marker, options);
          const before = marker.state;
          marker.state = state ?? before;
          if (state?.exists && state.signature !== before?.signature)
            report(await markerTime(this.#markerFile, state, signal), undefined);
        } catch {
          return; // aborted
        }
      }
      // Measured after the marker check, so its I/O never counts as lateness.
      wall = clock.now();
      monotonic = clock.monotonic();
    }
  }

  /** The marker's state, or `undefined` when it could not be read (reported once per error code). */
  async #statMarker(
    path: string,
    marker: { lastErrorCode: string | undefined },
    options: WatchOptions,
  ): Promise<MarkerState | undefined> {
    try {
      const state = await statMarker(path, options.signal);
      marker.lastErrorCode = undefined;
      return state;
    } catch (err) {
      if (err instanceof AbortedError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
      if (code !== marker.lastErrorCode)
        options.onError(
          new BackendError(`cannot stat resume marker ${path} (${code})`, true, { cause: err }),
        );
      marker.lastErrorCode = code;
      return undefined;
    }
  }
}
