import { isAbortError } from '../errors.ts';
import type { Clock, Timer } from '../ports/clock.ts';
import type { LeaseExtension, Queue } from '../ports/queue.ts';
import { QueueLimits } from '../ports/queue.ts';

/** Why a lease is no longer ours. */
export type LeaseLossReason =
  /** The queue said the lease was superseded (the message was delivered again). */
  | 'stale'
  /** Its visibility ran out before an extension was confirmed (failed heartbeats, or the host was frozen). */
  | 'expired'
  /** SQS's 12-hour visibility ceiling, counted from the receive, is less than the threshold away. */
  | 'ceiling';

export interface LeaseKeeperOptions {
  readonly queue: Pick<Queue, 'extend'>;
  readonly clock: Clock;
  /** What each extension asks for. */
  readonly visibilitySeconds: number;
  /** How often to look for leases near expiry. */
  readonly intervalMs: number;
  /** Extend leases with at most this much visibility left. */
  readonly thresholdMs: number;
  /** Cancels a heartbeat call in flight (final shutdown). */
  readonly signal: AbortSignal;
  readonly onLost: (lease: string, reason: LeaseLossReason, cause?: Error) => void;
  /** One batched `extend` call is going out with `size` entries. */
  readonly onSend?: (size: number) => void;
  /** A heartbeat call failed as a whole or for some entries; the next tick tries again. */
  readonly onError?: (error: Error) => void;
}

interface HeldLease {
  readonly lease: string;
  readonly receivedWall: number;
  readonly receivedMono: number;
  extendedWall: number;
  extendedMono: number;
  visibilityMs: number;
}

/**
 * Keeps the leases of running jobs alive with batched heartbeats, the way AWS's .NET
 * messaging framework does: every `intervalMs` one `queue.extend` call carries every lease
 * within `thresholdMs` of expiry (the adapter splits it into batches of 10), instead of a
 * timer and a call per message.
 *
 * ```
 *  visibility V, interval I (default V/6), threshold T (default V/2)
 *  receive        tick   tick   tick   tick   tick
 *  |--------------|------|------|------|------|----> time
 *  lease: V left         ...    <=T left: extend -> V left again (one call for all due leases)
 *  extend answers 'stale'        -> onLost('stale'):   the job is aborted, never acked
 *  no confirmed extension by expiry -> onLost('expired') (network down, host frozen)
 * ```
 *
 * Time left is measured on both clocks and the larger elapsed time wins: the wall clock
 * keeps running while a host hibernates (the queue's lease does too), the monotonic clock
 * is immune to NTP steps back.
 *
 * @example
 * ```ts
 * const keeper = new LeaseKeeper({ queue, clock, visibilitySeconds: 30, intervalMs: 5_000, thresholdMs: 15_000,
 *   signal, onLost: (lease, reason) => abortJob(lease, reason) });
 * keeper.start();
 * keeper.track(message.lease);
 * keeper.untrack(message.lease); // before ack or release
 * await keeper.stop();
 * ```
 */
export class LeaseKeeper {
  readonly #options: LeaseKeeperOptions;
  readonly #held = new Map<string, HeldLease>();
  #timer: Timer | undefined;
  #running = false;
  #tickInFlight: Promise<void> | undefined;

  constructor(options: LeaseKeeperOptions) {
    this.#options = options;
  }

  /** Leases being kept alive. */
  get size(): number {
    return this.#held.size;
  }

  /** Starts keeping `lease` alive; call right after the message was received. */
  track(lease: string): void {
    const wall = this.#options.clock.now();
    const mono = this.#options.clock.monotonic();
    this.#held.set(lease, {
      lease,
      receivedWall: wall,
      receivedMono: mono,
      extendedWall: wall,
      extendedMono: mono,
      visibilityMs: this.#options.visibilitySeconds * 1000,
    });
  }

  /** Stops keeping `lease` alive; answers of a heartbeat in flight for it are then ignored. */
  untrack(lease: string): void {
    this.#held.delete(lease);
  }

  has(lease: string): boolean {
    return this.#held.has(lease);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#arm();
  }

  /** Stops ticking and waits for a heartbeat in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#tickInFlight;
  }

  /** One heartbeat round now (ticks never overlap: a slow call delays the next one). */
  async tick(): Promise<void> {
    if (this.#tickInFlight) return this.#tickInFlight;
    this.#tickInFlight = this.#tick().finally(() => {
      this.#tickInFlight = undefined;
    });
    return this.#tickInFlight;
  }

  #arm(): void {
    if (!this.#running) return;
    this.#timer = this.#options.clock.setTimer(this.#options.intervalMs, () => {
      void this.tick().finally(() => this.#arm());
    });
  }

  async #tick(): Promise<void> {
    const { clock, thresholdMs, visibilitySeconds } = this.#options;
    const due: LeaseExtension[] = [];
    for (const held of [...this.#held.values()]) {
      // SQS makes a message visible again 12 h after its receive, whatever we ask. Give the
      // lease up while it still has `thresholdMs` to run, so the job stops before that.
      const ceilingLeft =
        QueueLimits.maxVisibilitySeconds * 1000 - this.#elapsed(held.receivedWall, held.receivedMono);
      if (ceilingLeft <= thresholdMs) {
        this.#lose(held.lease, 'ceiling');
        continue;
      }
      const left = held.visibilityMs - this.#elapsed(held.extendedWall, held.extendedMono);
      if (left <= 0) {
        this.#lose(held.lease, 'expired');
        continue;
      }
      if (left > thresholdMs) continue;
      const seconds = Math.min(visibilitySeconds, Math.floor(ceilingLeft / 1000) - 1);
      due.push({ lease: held.lease, visibilitySeconds: seconds });
    }
    if (due.length === 0) return;

    const requestedWall = clock.now();
    const requestedMono = clock.monotonic();
    this.#options.onSend?.(due.length);
    let results: Awaited<ReturnType<Queue['extend']>>;
    try {
      results = await this.#options.queue.extend(due, this.#options.signal);
    } catch (error) {
      if (!isAbortError(error)) this.#options.onError?.(error as Error);
      return;
    }
    results.forEach((result, i) => {
      const asked = due[i];
      const held = asked && this.#held.get(asked.lease);
      // Untracked meanwhile: the job finished and its ack may already have deleted the
      // message, so a 'stale' answer here means nothing (sqs-consumer's heartbeat race).
      if (!asked || !held) return;
      if (result.ok) {
        held.extendedWall = requestedWall;
        held.extendedMono = requestedMono;
        held.visibilityMs = asked.visibilitySeconds * 1000;
      } else if (result.reason === 'stale') {
        this.#lose(held.lease, 'stale', result.error);
      } else {
        this.#options.onError?.(result.error ?? new Error(`heartbeat for a lease failed`));
      }
    });
  }

  #lose(lease: string, reason: LeaseLossReason, cause?: Error): void {
    this.#held.delete(lease);
    this.#options.onLost(lease, reason, cause);
  }

  #elapsed(wall: number, mono: number): number {
    const { clock } = this.#options;
    return Math.max(clock.now() - wall, clock.monotonic() - mono);
  }
}
