/**
 * `InterruptionSource`: something that tells a worker its host is going away, about to
 * sleep, or has just woken up. The runner reacts to notices; sources only observe.
 *
 * Semantics every source honours:
 * - `watch` calls `notify` once per distinct notice (a spot notice seen on 30 polls is one
 *   notice; a notice whose time changes is a new one), from the moment it is called until
 *   its `signal` aborts; it resolves once watching has stopped and no call is in flight.
 * - Errors while observing (IMDS down, a timeout) go to `onError`; watching goes on.
 * - `at` is the wall-clock epoch ms by which the host will be gone (a spot notice's
 *   `time`, or SIGTERM's arrival plus the platform's stop timeout).
 *
 * | kind | from | what the runner does |
 * |---|---|---|
 * | `terminate`, `stop` | IMDS `spot/instance-action`, SIGTERM | stop polling; checkpoint or release every job before `at` minus a margin; exit |
 * | `hibernate` | IMDS `spot/instance-action` (no lead time), the system-sleep hook `pre` | apply the hibernate policy: hold leases for a bounded window, or release them |
 * | `rebalance` | IMDS `events/recommendations/rebalance` | stop taking new work; finish running jobs |
 * | `resume` | a wall-clock jump against the monotonic clock, the hibernation agent's marker file, the system-sleep hook `post` | re-validate every lease and claim before any result is written |
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * void source.watch({ notify: (n) => console.log(n.kind, n.at), onError: console.warn, signal: controller.signal });
 * ```
 */
export interface InterruptionSource {
  /** For logs: `imds`, `signal`, `resume-detector`, `sleep-hook`, `manual`. */
  readonly name: string;
  watch(options: WatchOptions): Promise<void>;
}

export interface WatchOptions {
  /**
   * Receives each notice. It may return a promise that settles once the notice has been acted
   * on: a source with someone waiting on the other side (the system-sleep hook's `pre`, which
   * holds the host awake) answers only then, within its own bound; other sources ignore it.
   * A throw or a rejection goes to `onError`.
   */
  readonly notify: (notice: InterruptionNotice) => void | Promise<void>;
  readonly onError: (error: Error) => void;
  readonly signal: AbortSignal;
}

export type InterruptionNotice =
  | {
      readonly kind: 'terminate' | 'stop';
      /** Epoch ms when the host goes away. */
      readonly at: number;
      readonly source: string;
    }
  | {
      readonly kind: 'hibernate';
      /** Epoch ms when hibernation starts (often now: AWS gives no lead time). */
      readonly at: number;
      readonly source: string;
    }
  | {
      readonly kind: 'rebalance';
      /** Epoch ms of the recommendation. */
      readonly at: number;
      readonly source: string;
    }
  | {
      readonly kind: 'resume';
      /** Epoch ms of the resume as observed. */
      readonly at: number;
      /** How long the host was away, when known. */
      readonly awayMs?: number;
      readonly source: string;
    };

export type InterruptionKind = InterruptionNotice['kind'];
