import { isAbortError } from '../errors.ts';
import type { Clock, Timer } from '../ports/clock.ts';
import type { LeaseExtension, LeaseResult, Queue } from '../ports/queue.ts';
import { QueueLimits } from '../ports/queue.ts';
import { type OwnershipCheck, OwnershipDoubt } from './ownership-doubt.ts';

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
  /**
   * The wall clock running ahead of the monotonic clock by more than this between two ticks
   * is a resume from hibernation (or an NTP step): `onClockJump` is called. Default 2 s.
   */
  readonly jumpThresholdMs?: number;
  /** Cancels a heartbeat call in flight (final shutdown). */
  readonly signal: AbortSignal;
  readonly onLost: (lease: string, reason: LeaseLossReason, cause?: Error) => void;
  /** The wall clock jumped ahead by `awayMs` (see `jumpThresholdMs`). */
  readonly onClockJump?: (awayMs: number) => void;
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
  /** Pending after a resume or near expiry: writes wait for a newer confirmation. */
  readonly doubt: OwnershipDoubt;
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
 * Ownership gate (`confirm`): before the runner writes anything for a job (ack, dead-letter,
 * checkpoint, claim completion) it asks whether the lease is surely still ours. It is when
 * it has more than a small safety margin left by both clocks and no doubt is pending. After
 * a resume (`revalidate`) every lease is in doubt until an extension *sent after the doubt
 * arose* answers: an answer to a call sent before the host froze proves nothing.
 *
 * ```
 *  freeze ........ resume: revalidate() -> doubt all -> one extend call -> ok: gates open
 *                                                                       -> stale: onLost, gates say no
 * ```
 *
 * @example
 * ```ts
 * const keeper = new LeaseKeeper({ queue, clock, visibilitySeconds: 30, intervalMs: 5_000, thresholdMs: 15_000,
 *   signal, onLost: (lease, reason) => abortJob(lease, reason) });
 * keeper.start();
 * keeper.track(message.lease);
 * if (await keeper.confirm(message.lease)) await queue.ack([message.lease]);
 * keeper.untrack(message.lease);
 * await keeper.stop();
 * ```
 */
export class LeaseKeeper {
  readonly #options: LeaseKeeperOptions;
  readonly #held = new Map<string, HeldLease>();
  readonly #safetyMs: number;
  readonly #jumpThresholdMs: number;
  #timer: Timer | undefined;
  #running = false;
  #tickInFlight: Promise<void> | undefined;
  /** Numbers calls and doubts, so an answer is matched against the doubt it may clear. */
  #seq = 0;
  #lastTickWall: number;
  #lastTickMono: number;
  /** Leases a gate found close to expiry, checked together in the next microtask. */
  #toCheck = new Set<HeldLease>();

  constructor(options: LeaseKeeperOptions) {
    this.#options = options;
    // Heartbeats keep at least `threshold - interval` left; half of that (at most 1 s) is
    // room for clock skew with the queue, without re-checking every ack of a healthy lease.
    this.#safetyMs = Math.min(1_000, Math.max(0, (options.thresholdMs - options.intervalMs) / 2));
    this.#jumpThresholdMs = options.jumpThresholdMs ?? 2_000;
    this.#lastTickWall = options.clock.now();
    this.#lastTickMono = options.clock.monotonic();
  }

  /** Leases being kept alive. */
  get size(): number {
    return this.#held.size;
  }

  /** Leases whose ownership is in doubt (waiting for a re-validation answer). */
  get doubtful(): number {
    let n = 0;
    for (const held of this.#held.values()) if (held.doubt.pending) n++;
    return n;
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
      doubt: new OwnershipDoubt(),
    });
  }

  /** Stops keeping `lease` alive; answers of a heartbeat in flight for it are then ignored. */
  untrack(lease: string): void {
    const held = this.#held.get(lease);
    if (!held) return;
    this.#held.delete(lease);
    held.doubt.fail();
  }

  has(lease: string): boolean {
    return this.#held.has(lease);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#lastTickWall = this.#options.clock.now();
    this.#lastTickMono = this.#options.clock.monotonic();
    this.#arm();
  }

  /** Stops ticking and waits for a heartbeat in flight. Gates still waiting answer false. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#tickInFlight;
    for (const held of this.#held.values()) held.doubt.fail();
  }

  /** One heartbeat round now (ticks never overlap: a slow call delays the next one). */
  async tick(): Promise<void> {
    if (this.#tickInFlight) return this.#tickInFlight;
    this.#tickInFlight = this.#tick().finally(() => {
      this.#tickInFlight = undefined;
    });
    return this.#tickInFlight;
  }

  /**
   * Whether `lease` is surely still ours, for a gate before a write. Answers at once for a
   * healthy lease; otherwise waits for an extension sent from now on (one is sent at once
   * for a lease near expiry) and answers false if the lease was lost, untracked, or `signal`
   * aborted first.
   */
  async confirm(lease: string, signal?: AbortSignal): Promise<boolean> {
    const held = this.#held.get(lease);
    if (!held) return false;
    if (this.#checkTime(held) === 'lost') return false;
    if (!held.doubt.pending) {
      if (this.#leftMs(held) > this.#safetyMs) return true;
      this.#doubt([held]);
      this.#checkSoon(held);
    }
    return held.doubt.wait(signal);
  }

  /**
   * Puts every lease (or those given) in doubt and sends one batched extension to the full
   * visibility now: a resume from hibernation, or a job asserting its ownership. Gates wait
   * for the answer.
   */
  async revalidate(leases?: readonly string[]): Promise<OwnershipCheck> {
    const helds = this.#pick(leases);
    this.#doubt(helds);
    return this.#extendNow(helds, this.#options.visibilitySeconds);
  }

  /**
   * Extends every lease to `visibilitySeconds` in one batched call (the hibernate `hold`
   * policy), each capped by SQS's 12-hour ceiling. Later heartbeats resume from there.
   */
  async hold(visibilitySeconds: number): Promise<OwnershipCheck> {
    return this.#extendNow(this.#pick(undefined), visibilitySeconds);
  }

  #arm(): void {
    if (!this.#running) return;
    this.#timer = this.#options.clock.setTimer(this.#options.intervalMs, () => {
      void this.tick().finally(() => this.#arm());
    });
  }

  async #tick(): Promise<void> {
    const { clock, thresholdMs } = this.#options;
    const wall = clock.now();
    const mono = clock.monotonic();
    const jumpMs = wall - this.#lastTickWall - (mono - this.#lastTickMono);
    this.#lastTickWall = wall;
    this.#lastTickMono = mono;
    const due: HeldLease[] = [];
    for (const held of [...this.#held.values()]) {
      if (this.#checkTime(held) === 'lost') continue;
      if (held.doubt.pending || this.#leftMs(held) <= thresholdMs) due.push(held);
    }
    // After the expired leases are gone: the runner re-validates the rest (and the claims).
    if (jumpMs > this.#jumpThresholdMs) this.#options.onClockJump?.(jumpMs);
    if (due.length > 0) await this.#extendNow(due, this.#options.visibilitySeconds);
  }

  /** Loses `held` if its visibility or the ceiling ran out by our clocks. */
  #checkTime(held: HeldLease): 'ok' | 'lost' {
    if (this.#ceilingLeftMs(held) <= this.#options.thresholdMs) {
      // SQS makes a message visible again 12 h after its receive, whatever we ask. Give the
      // lease up while it still has `thresholdMs` to run, so the job stops before that.
      this.#lose(held, 'ceiling');
      return 'lost';
    }
    if (this.#leftMs(held) <= 0) {
      this.#lose(held, 'expired');
      return 'lost';
    }
    return 'ok';
  }

  async #extendNow(helds: readonly HeldLease[], visibilitySeconds: number): Promise<OwnershipCheck> {
    const { clock } = this.#options;
    const asked: HeldLease[] = [];
    const entries: LeaseExtension[] = [];
    let lost = 0;
    for (const held of helds) {
      if (!this.#held.has(held.lease)) continue;
      if (this.#checkTime(held) === 'lost') {
        lost++;
        continue;
      }
      const seconds = Math.min(visibilitySeconds, Math.floor(this.#ceilingLeftMs(held) / 1000) - 1);
      asked.push(held);
      entries.push({ lease: held.lease, visibilitySeconds: seconds });
    }
    if (entries.length === 0) return { checked: helds.length, lost, unconfirmed: 0 };

    const seq = ++this.#seq;
    const requestedWall = clock.now();
    const requestedMono = clock.monotonic();
    this.#options.onSend?.(entries.length);
    let results: LeaseResult[];
    try {
      results = await this.#options.queue.extend(entries, this.#options.signal);
    } catch (error) {
      if (!isAbortError(error)) this.#options.onError?.(error as Error);
      return { checked: helds.length, lost, unconfirmed: entries.length };
    }
    let unconfirmed = 0;
    results.forEach((result, i) => {
      const held = asked[i];
      const entry = entries[i];
      // Untracked meanwhile: the job finished and its ack may already have deleted the
      // message, so a 'stale' answer here means nothing (sqs-consumer's heartbeat race).
      if (!held || !entry || this.#held.get(held.lease) !== held) return;
      if (result.ok) {
        if (requestedMono >= held.extendedMono) {
          held.extendedWall = requestedWall;
          held.extendedMono = requestedMono;
          held.visibilityMs = entry.visibilitySeconds * 1000;
        }
        // Only a call sent after the doubt arose clears it.
        held.doubt.confirmedBy(seq);
      } else if (result.reason === 'stale') {
        lost++;
        this.#lose(held, 'stale', result.error);
      } else {
        unconfirmed++;
        this.#options.onError?.(result.error ?? new Error('heartbeat for a lease failed'));
      }
    });
    return { checked: helds.length, lost, unconfirmed };
  }

  #pick(leases: readonly string[] | undefined): HeldLease[] {
    if (!leases) return [...this.#held.values()];
    return leases.map((l) => this.#held.get(l)).filter((h): h is HeldLease => h !== undefined);
  }

  #doubt(helds: readonly HeldLease[]): void {
    const seq = ++this.#seq;
    for (const held of helds) held.doubt.raise(seq);
  }

  /** Gates that find leases near expiry in the same turn share one extension call. */
  #checkSoon(held: HeldLease): void {
    this.#toCheck.add(held);
    if (this.#toCheck.size > 1) return;
    queueMicrotask(() => {
      const batch = [...this.#toCheck];
      this.#toCheck.clear();
      void this.#extendNow(batch, this.#options.visibilitySeconds);
    });
  }

  #lose(held: HeldLease, reason: LeaseLossReason, cause?: Error): void {
    if (this.#held.get(held.lease) !== held) return;
    this.#held.delete(held.lease);
    held.doubt.fail();
    this.#options.onLost(held.lease, reason, cause);
  }

  #leftMs(held: HeldLease): number {
    return held.visibilityMs - this.#elapsed(held.extendedWall, held.extendedMono);
  }

  #ceilingLeftMs(held: HeldLease): number {
    return QueueLimits.maxVisibilitySeconds * 1000 - this.#elapsed(held.receivedWall, held.receivedMono);
  }

  #elapsed(wall: number, mono: number): number {
    const { clock } = this.#options;
    return Math.max(clock.now() - wall, clock.monotonic() - mono);
  }
}
