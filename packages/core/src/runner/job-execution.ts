import type { Claim } from '../claims/claim.ts';
import {
  InterruptedError,
  JobTimeoutError,
  type LeaseLostError,
  PermanentJobError,
  RetryJobError,
  ValidationError,
} from '../errors.ts';
import type { Timer } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { QueueMessage } from '../ports/queue.ts';
import type { JsonValue } from '../ports/table.ts';
import type { ClaimAttempt } from './claim-keeper.ts';
import { decodeJob } from './job-decoder.ts';
import type { JobClaimOptions, JobContext } from './job-definition.ts';
import type { JobRef, ReleaseReason } from './runner-events.ts';
import type { CompiledRunnerOptions } from './runner-options.ts';

/** What became of one delivery; the runner turns it into queue calls, an event and a log line. */
export type JobOutcome =
  /** The handler returned `result` (stored as the claim's result when it is a JSON object). */
  | { readonly kind: 'succeeded'; readonly result?: unknown }
  /** The job's claim was completed before: ack without running the handler. */
  | { readonly kind: 'duplicate'; readonly claimKey: string }
  /** Another live owner holds the job's claim: release after `delaySeconds`, not a failure. */
  | { readonly kind: 'deferred'; readonly claimKey: string; readonly delaySeconds: number }
  /** Retry after `delaySeconds` (from `RetryJobError`) or backoff, unless attempts are exhausted. */
  | { readonly kind: 'failed'; readonly error: Error; readonly delaySeconds?: number }
  | { readonly kind: 'permanent'; readonly error: Error }
  /** Failed validation before any handler ran. */
  | { readonly kind: 'poison'; readonly reason: string }
  /** Release at once, not a failure (shutdown, or the handler threw `InterruptedError`). */
  | { readonly kind: 'interrupted'; readonly error?: Error }
  /** Someone else holds the message now: touch nothing. */
  | { readonly kind: 'lease-lost'; readonly error: LeaseLostError };

/** What a job needs from its runner. */
export interface JobHost {
  readonly options: CompiledRunnerOptions;
  readonly logger: Logger;
  /** Epoch ms by which handlers of a stopping runner must return, else undefined. */
  deadline(): number | undefined;
  /** The handler is about to start (the `job:started` event). */
  started(job: JobExecution): void;
  /** A handler declared stuck has finally returned (`error` if it threw). */
  settledLate(job: JobExecution, error: Error | undefined): void;
  /** Takes the job's claim on `key` (tracked for renewals when held). */
  acquireClaim(
    job: JobExecution,
    spec: JobClaimOptions,
    key: string,
    signal: AbortSignal,
  ): Promise<ClaimAttempt>;
  /** `ctx.claim`. */
  claimOf(job: JobExecution): Claim | undefined;
  /** `ctx.checkpoint`. */
  checkpoint(job: JobExecution, state: JsonValue): Promise<void>;
  /** `ctx.previousCheckpoint`, loaded on first access. */
  previousCheckpoint(job: JobExecution): Promise<JsonValue | undefined>;
  /** `ctx.assertOwnership`. */
  assertOwnership(job: JobExecution): Promise<void>;
}

type Settled = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Error };

/**
 * One delivery, from validation to an outcome. The handler's `ctx.signal` combines three
 * per-job controllers (timeout, lease lost, shutdown); per-job rather than one runner-wide
 * signal because `AbortSignal.any` keeps memory for as long as its longest-lived source.
 *
 * Stuck-handler policy: once the signal aborts, the handler has a grace period (`abortGraceMs`,
 * or what is left of a shutdown) to return. If it does not, the job is declared stuck: its
 * outcome is decided from the abort reason (timeout: a failed attempt; shutdown: released
 * at once; lease lost: nothing), its slot is freed so the runner keeps working, and its late
 * result is ignored. Slots can thus be exceeded by the stuck handlers only, which are counted
 * in `stats().stuck`, logged and reported by the `job:stuck` event.
 *
 * @example
 * ```ts
 * const job = new JobExecution(message, host);
 * const outcome = await job.run(); // { kind: 'succeeded' } | { kind: 'failed', error } | ...
 * ```
 */
export class JobExecution {
  readonly message: QueueMessage;
  /** Set once the body was routed. */
  type: string | undefined;
  logger: Logger;
  /** Monotonic ms when the handler started (or validation, if it never did). */
  startedAt = 0;
  durationMs = 0;
  /** Whether a handler was called (poison and pre-start releases never get one). */
  handlerStarted = false;
  stuck = false;
  /** Set once the claim key was computed (a definition with `claim`). */
  claimKey: string | undefined;
  /** Why an interrupted job goes back (`interrupt`'s reason); the stop reason otherwise. */
  releaseReason: ReleaseReason | undefined;
  /** A checkpoint was written or found by this delivery: clean up once the job is done. */
  checkpointsTouched = false;
  /** The runner started settling it: no checkpoint may be written any more. */
  settling = false;
  /** Memoised `ctx.previousCheckpoint`. */
  previousCheckpoint: Promise<JsonValue | undefined> | undefined;
  /** Serialises `ctx.checkpoint` calls. */
  checkpointChain: Promise<void> = Promise.resolve();

  readonly #host: JobHost;
  readonly #timeout = new AbortController();
  readonly #lease = new AbortController();
  readonly #shutdown = new AbortController();
  /** Aborts the job's own I/O (checkpoints) once its message is settled. */
  readonly #io = new AbortController();
  /** Ownership gates stop waiting (a stopping runner ran out of time). */
  readonly #giveUp = new AbortController();
  #gateSignal: AbortSignal | undefined;
  #markDone: () => void = () => {};
  /** Resolves once the runner has settled this delivery (its queue call answered). */
  readonly done = new Promise<void>((resolve) => {
    this.#markDone = resolve;
  });
  /** Wall ms by which an interrupted handler must return. */
  #returnBy: number | undefined;
  #graceTimer: Timer | undefined;
  #graceAt = Number.POSITIVE_INFINITY;
  #onGraceExpired: (() => void) | undefined;

  constructor(message: QueueMessage, host: JobHost) {
    this.message = message;
    this.#host = host;
    this.logger = this.#bindLogger();
  }

  get ref(): JobRef {
    return { messageId: this.message.id, type: this.type, attempt: this.message.receiveCount };
  }

  get attempt(): number {
    return this.message.receiveCount;
  }

  /**
   * The runner is stopping or the host is going away: abort with `error`; the handler then
   * has `graceMs` to return. Called again (a tighter deadline), it only shortens the grace.
   */
  interrupt(error: InterruptedError, graceMs: number, reason?: ReleaseReason): void {
    if (!this.#shutdown.signal.aborted) {
      this.releaseReason = reason;
      this.#shutdown.abort(error);
    }
    const { clock } = this.#host.options;
    const returnBy = clock.now() + Math.max(0, graceMs);
    this.#returnBy = Math.min(this.#returnBy ?? Number.POSITIVE_INFINITY, returnBy);
    this.#armGrace(graceMs);
  }

  get interrupted(): boolean {
    return this.#shutdown.signal.aborted;
  }

  /** `ctx.deadline`: the earlier of the runner's stop deadline and this job's own. */
  get deadline(): number | undefined {
    const runner = this.#host.deadline();
    if (runner === undefined) return this.#returnBy;
    return this.#returnBy === undefined ? runner : Math.min(runner, this.#returnBy);
  }

  /** Aborts when the lease (or claim) is lost: gates stop waiting then. */
  get leaseSignal(): AbortSignal {
    return this.#lease.signal;
  }

  /** For the job's own I/O: aborts once its message is settled. */
  get ioSignal(): AbortSignal {
    return this.#io.signal;
  }

  /** Aborts when an ownership gate must stop waiting: lease lost, gave up, or settled. */
  get gateSignal(): AbortSignal {
    this.#gateSignal ??= AbortSignal.any([this.#lease.signal, this.#giveUp.signal, this.#io.signal]);
    return this.#gateSignal;
  }

  /** A stopping runner ran out of time: gates answer at once. */
  giveUp(): void {
    this.#giveUp.abort(new InterruptedError('runner out of time'));
  }

  get gaveUp(): boolean {
    return this.#giveUp.signal.aborted;
  }

  /** The message is being settled: later checkpoint writes are refused, I/O in flight cancelled. */
  end(): void {
    this.settling = true;
    this.#io.abort(new InterruptedError('job settled'));
  }

  /** The settlement's queue call answered (see `done`). */
  finished(): void {
    this.#markDone();
  }

  /** Heartbeats found the lease superseded: abort, and never settle this delivery. */
  leaseLost(error: LeaseLostError): void {
    if (this.#lease.signal.aborted) return;
    this.#lease.abort(error);
    this.#armGrace(this.#host.options.abortGraceMs);
  }

  get isLeaseLost(): boolean {
    return this.#lease.signal.aborted;
  }

  /** Validates, runs the handler, and resolves with the outcome once it returned or got stuck. */
  async run(): Promise<JobOutcome> {
    const { options } = this.#host;
    this.startedAt = options.clock.monotonic();
    const early = this.#abortedOutcome();
    if (early) return early;

    let decoded: Awaited<ReturnType<typeof decodeJob>>;
    try {
      decoded = await decodeJob(this.message, options.routing, options.maxBodyBytes);
    } catch (error) {
      return { kind: 'failed', error: asError(error) };
    }
    this.type = decoded.type;
    this.logger = this.#bindLogger();
    if (!decoded.ok) return { kind: 'poison', reason: decoded.reason };
    // Shutdown or a lost lease during (async) validation: do not start the handler at all.
    const beforeClaim = this.#abortedOutcome();
    if (beforeClaim) return beforeClaim;

    const signal = AbortSignal.any([this.#timeout.signal, this.#lease.signal, this.#shutdown.signal]);
    const claimSpec = decoded.definition.claim;
    if (claimSpec) {
      const claimed = await this.#claim(claimSpec, decoded.value, signal);
      if (claimed) return claimed;
    }
    const beforeStart = this.#abortedOutcome();
    if (beforeStart) return beforeStart;

    const host = this.#host;
    const job = this;
    const ctx: JobContext = {
      signal,
      messageId: this.message.id,
      attempt: this.message.receiveCount,
      type: decoded.type,
      logger: this.logger,
      get deadline() {
        return job.deadline;
      },
      message: this.message,
      checkpoint: (state) => host.checkpoint(job, state),
      get previousCheckpoint() {
        return host.previousCheckpoint(job);
      },
      get claim() {
        return host.claimOf(job);
      },
      assertOwnership: () => host.assertOwnership(job),
    };
    const timeoutTimer = options.clock.setTimer(options.jobTimeoutMs, () => {
      this.#timeout.abort(new JobTimeoutError(options.jobTimeoutMs));
      this.#armGrace(options.abortGraceMs);
    });
    const gotStuck = new Promise<'stuck'>((resolve) => {
      this.#onGraceExpired = () => resolve('stuck');
    });

    this.startedAt = options.clock.monotonic();
    this.handlerStarted = true;
    this.#host.started(this);
    const settled: Promise<Settled> = (async () => decoded.definition.handle(decoded.value, ctx))().then(
      (value) => ({ ok: true, value }),
      (error: unknown) => ({ ok: false, error: asError(error) }),
    );

    const first = await Promise.race([settled, gotStuck]);
    timeoutTimer.cancel();
    this.#graceTimer?.cancel();
    this.durationMs = options.clock.monotonic() - this.startedAt;
    if (first === 'stuck') {
      this.stuck = true;
      void settled.then((late) => this.#host.settledLate(this, late.ok ? undefined : late.error));
      return this.#stuckOutcome();
    }
    return this.#classify(first);
  }

  /** Precedence matters: a lost lease trumps everything (the result is not ours to report). */
  #classify(settled: Settled): JobOutcome {
    const leaseError = this.#lease.signal.reason as LeaseLostError | undefined;
    if (this.#lease.signal.aborted && leaseError) return { kind: 'lease-lost', error: leaseError };
    // Work that completed counts even if an abort raced it: the result is written.
    if (settled.ok) return { kind: 'succeeded', result: settled.value };
    const { error } = settled;
    if (error instanceof PermanentJobError) return { kind: 'permanent', error };
    if (this.#shutdown.signal.aborted || error instanceof InterruptedError)
      return { kind: 'interrupted', error };
    if (this.#timeout.signal.aborted) {
      return {
        kind: 'failed',
        error: new JobTimeoutError(this.#host.options.jobTimeoutMs, { cause: error }),
      };
    }
    if (error instanceof RetryJobError && error.delaySeconds !== undefined) {
      return { kind: 'failed', error, delaySeconds: error.delaySeconds };
    }
    return { kind: 'failed', error };
  }

  #stuckOutcome(): JobOutcome {
    const leaseError = this.#lease.signal.reason as LeaseLostError | undefined;
    if (this.#lease.signal.aborted && leaseError) return { kind: 'lease-lost', error: leaseError };
    if (this.#shutdown.signal.aborted)
      return { kind: 'interrupted', error: this.#shutdown.signal.reason as Error };
    return { kind: 'failed', error: this.#timeout.signal.reason as Error };
  }

  /** Takes the job's claim; answers an outcome when the handler must not run. */
  async #claim(spec: JobClaimOptions, value: unknown, signal: AbortSignal): Promise<JobOutcome | undefined> {
    let key: unknown;
    try {
      key = spec.key(value);
    } catch (error) {
      const cause = asError(error);
      return {
        kind: 'permanent',
        error: new PermanentJobError(`claim key failed: ${cause.message}`, { cause }),
      };
    }
    if (typeof key !== 'string' || key.length === 0) {
      return { kind: 'permanent', error: new PermanentJobError('claim key must be a non-empty string') };
    }
    this.claimKey = key;
    let attempt: ClaimAttempt;
    try {
      attempt = await this.#host.acquireClaim(this, spec, key, signal);
    } catch (error) {
      const aborted = this.#abortedOutcome();
      if (aborted) return aborted;
      // A key the store refuses (too long...) is refused on every delivery.
      if (error instanceof ValidationError) return { kind: 'permanent', error };
      return { kind: 'failed', error: asError(error) };
    }
    if (attempt.kind === 'completed') return { kind: 'duplicate', claimKey: key };
    if (attempt.kind === 'busy')
      return { kind: 'deferred', claimKey: key, delaySeconds: attempt.delaySeconds };
    return undefined;
  }

  #abortedOutcome(): JobOutcome | undefined {
    if (this.#lease.signal.aborted)
      return { kind: 'lease-lost', error: this.#lease.signal.reason as LeaseLostError };
    if (this.#shutdown.signal.aborted)
      return { kind: 'interrupted', error: this.#shutdown.signal.reason as Error };
    return undefined;
  }

  /** Keeps the earliest grace end when aborts pile up (timeout, then shutdown...). */
  #armGrace(graceMs: number): void {
    if (!this.handlerStarted || !this.#onGraceExpired) return;
    const { clock } = this.#host.options;
    const at = clock.monotonic() + Math.max(0, graceMs);
    if (at >= this.#graceAt) return;
    this.#graceAt = at;
    this.#graceTimer?.cancel();
    const expire = this.#onGraceExpired;
    this.#graceTimer = clock.setTimer(at - clock.monotonic(), expire);
  }

  #bindLogger(): Logger {
    return this.#host.logger.child({
      messageId: this.message.id,
      type: this.type,
      attempt: this.message.receiveCount,
    });
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
