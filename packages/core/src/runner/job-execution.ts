import {
  InterruptedError,
  JobTimeoutError,
  type LeaseLostError,
  PermanentJobError,
  RetryJobError,
} from '../errors.ts';
import type { Timer } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { QueueMessage } from '../ports/queue.ts';
import { decodeJob } from './job-decoder.ts';
import type { JobContext } from './job-definition.ts';
import type { JobRef } from './runner-events.ts';
import type { CompiledRunnerOptions } from './runner-options.ts';

/** What became of one delivery; the runner turns it into queue calls, an event and a log line. */
export type JobOutcome =
  | { readonly kind: 'succeeded' }
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
  /** `ctx.deadline`: epoch ms when a stopping runner aborts jobs, else undefined. */
  deadline(): number | undefined;
  /** The handler is about to start (the `job:started` event). */
  started(job: JobExecution): void;
  /** A handler declared stuck has finally returned (`error` if it threw). */
  settledLate(job: JobExecution, error: Error | undefined): void;
}

type Settled = { readonly ok: true } | { readonly ok: false; readonly error: Error };

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

  readonly #host: JobHost;
  readonly #timeout = new AbortController();
  readonly #lease = new AbortController();
  readonly #shutdown = new AbortController();
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

  /** The runner is stopping: abort with `error`; the handler then has `graceMs` to return. */
  interrupt(error: InterruptedError, graceMs: number): void {
    if (this.#shutdown.signal.aborted) return;
    this.#shutdown.abort(error);
    this.#armGrace(graceMs);
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
    const beforeStart = this.#abortedOutcome();
    if (beforeStart) return beforeStart;

    const signal = AbortSignal.any([this.#timeout.signal, this.#lease.signal, this.#shutdown.signal]);
    const host = this.#host;
    const ctx: JobContext = {
      signal,
      messageId: this.message.id,
      attempt: this.message.receiveCount,
      type: decoded.type,
      logger: this.logger,
      get deadline() {
        return host.deadline();
      },
      message: this.message,
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
      () => ({ ok: true }),
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
    if (settled.ok) return { kind: 'succeeded' };
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
