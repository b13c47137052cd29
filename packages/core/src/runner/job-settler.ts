import type { LeaseRelease, LeaseResult } from '../ports/queue.ts';
import { QueueLimits } from '../ports/queue.ts';
import { backoffSeconds } from './backoff.ts';
import { Batcher } from './batcher.ts';
import type { JobExecution, JobOutcome } from './job-execution.ts';
import type { ReleaseReason, RunnerEvents } from './runner-events.ts';
import type { CompiledRunnerOptions } from './runner-options.ts';
import type { TypedEmitter } from './typed-emitter.ts';

export interface JobSettlerOptions {
  readonly options: CompiledRunnerOptions;
  readonly events: TypedEmitter<RunnerEvents>;
  /** Cancels settling calls still in flight once the runner is done. */
  readonly signal: AbortSignal;
  readonly reportError: (error: Error, what: string) => void;
  /** The reason for releases of interrupted jobs: the stop reason while stopping. */
  readonly interruptReason: () => ReleaseReason;
}

/** Totals by outcome, for `stats()` and the last log line. */
export interface JobCounts {
  started: number;
  succeeded: number;
  retried: number;
  deadLettered: number;
  released: number;
  /** Acked unread: their claim was completed before. */
  duplicates: number;
  /** Released with a delay: another owner held their claim. */
  deferred: number;
}

/** What settling one job wrote to the queue, and whether the call succeeded. */
export interface SettleResult {
  readonly call: 'ack' | 'release' | 'dead-letter' | 'none';
  readonly ok: boolean;
}

/**
 * Turns outcomes into queue calls, one log line and one terminal event per delivery:
 *
 * | outcome     | queue call                                  | event               | log   |
 * |-------------|---------------------------------------------|---------------------|-------|
 * | succeeded   | ack (batched)                               | `job:succeeded`     | info  |
 * | failed      | release after delay (batched), or dead-letter when attempts are exhausted | `job:retried` / `job:dead-lettered` | warn / error |
 * | permanent   | dead-letter                                 | `job:dead-lettered` | error |
 * | poison      | dead-letter                                 | `job:dead-lettered` | error |
 * | duplicate   | ack (batched)                               | `job:duplicate`     | info  |
 * | deferred    | release after the claim's TTL (batched)     | `job:deferred`      | info  |
 * | interrupted | release(0) (batched)                        | `job:released`      | info  |
 * | lease-lost  | none: the lease is someone else's           | `job:released`      | warn  |
 *
 * The event follows the queue call whether or not it succeeded; a failed call adds an
 * `error` event. Failures are not retried here: the SDK already retried transient errors,
 * and the message comes back after its visibility timeout (at-least-once), which is safer
 * than holding a slot.
 *
 * @example
 * ```ts
 * const settler = new JobSettler({ options, events, signal, reportError, interruptReason: () => 'shutdown' });
 * settler.settle(job, await job.run());
 * await settler.drain(); // at shutdown
 * ```
 */
export class JobSettler {
  readonly counts: JobCounts = {
    started: 0,
    succeeded: 0,
    retried: 0,
    deadLettered: 0,
    released: 0,
    duplicates: 0,
    deferred: 0,
  };
  readonly #o: JobSettlerOptions;
  readonly #acks: Batcher<string, LeaseResult>;
  readonly #releases: Batcher<LeaseRelease, LeaseResult>;
  readonly #settling = new Set<Promise<void>>();

  constructor(options: JobSettlerOptions) {
    this.#o = options;
    const { queue, batchLingerMs, clock } = options.options;
    const batch = { maxSize: QueueLimits.maxBatch, lingerMs: batchLingerMs, clock };
    this.#acks = new Batcher({
      ...batch,
      send: (leases) => queue.ack(leases, options.signal),
      onSend: (size) => options.events.emit('batch:sent', { kind: 'ack', size }),
    });
    this.#releases = new Batcher({
      ...batch,
      send: (entries) => queue.release(entries, options.signal),
      onSend: (size) => options.events.emit('batch:sent', { kind: 'release', size }),
    });
  }

  /** Settlements not yet answered (waiting for their batch, or in flight). */
  get pending(): number {
    return this.#settling.size;
  }

  /** Settles `job`; the promise (which never rejects) answers once the queue call did. */
  settle(job: JobExecution, outcome: JobOutcome): Promise<SettleResult> {
    const settling = this.#apply(job, outcome).catch((error: unknown): SettleResult => {
      this.#o.reportError(error as Error, 'settling a job failed');
      return { call: 'none', ok: false };
    });
    const tracked = settling.then(() => {});
    this.#settling.add(tracked);
    void tracked.finally(() => this.#settling.delete(tracked));
    return settling;
  }

  /**
   * From now on partial batches go out at the end of the current turn instead of after the
   * linger (an interruption: releases must land at once).
   */
  hurry(): void {
    this.#acks.hurry();
    this.#releases.hurry();
  }

  /** Back to lingering batches (after a hibernate release, once the runner works again). */
  relax(): void {
    this.#acks.relax();
    this.#releases.relax();
  }

  /** Sends what waits for a batch at once (no more linger) and waits for every answer. */
  async drain(): Promise<void> {
    this.hurry();
    while (this.#settling.size > 0) await Promise.all([...this.#settling]);
    await Promise.all([this.#acks.drain(), this.#releases.drain()]);
  }

  async #apply(job: JobExecution, outcome: JobOutcome): Promise<SettleResult> {
    const { maxAttempts, backoff, random } = this.#o.options;
    const lease = job.message.lease;
    const durationMs = job.durationMs;
    switch (outcome.kind) {
      case 'succeeded': {
        const ok = await this.#call(this.#acks.add(lease), 'ack failed');
        this.counts.succeeded++;
        job.logger.info({ outcome: 'succeeded', durationMs }, 'job succeeded');
        this.#o.events.emit('job:succeeded', { ...job.ref, durationMs });
        return { call: 'ack', ok };
      }
      case 'duplicate': {
        const ok = await this.#call(this.#acks.add(lease), 'ack failed');
        this.counts.duplicates++;
        job.logger.info(
          { outcome: 'duplicate', claimKey: outcome.claimKey },
          'job is a duplicate: its claim was completed before; acked without running',
        );
        this.#o.events.emit('job:duplicate', { ...job.ref, claimKey: outcome.claimKey });
        return { call: 'ack', ok };
      }
      case 'deferred': {
        const { claimKey, delaySeconds } = outcome;
        const ok = await this.#call(this.#releases.add({ lease, delaySeconds }), 'release failed');
        this.counts.deferred++;
        job.logger.info(
          { outcome: 'deferred', claimKey, delaySeconds },
          'job deferred: another owner holds its claim',
        );
        this.#o.events.emit('job:deferred', { ...job.ref, claimKey, delaySeconds });
        return { call: 'release', ok };
      }
      case 'failed': {
        if (job.attempt >= maxAttempts) {
          const reason = `attempts exhausted: attempt ${job.attempt} of ${maxAttempts} failed: ${outcome.error.message}`;
          return this.#deadLetter(job, reason, outcome.error);
        }
        const wanted = outcome.delaySeconds ?? backoffSeconds(job.attempt, backoff, random);
        const delaySeconds = Math.min(QueueLimits.maxVisibilitySeconds, Math.max(0, Math.round(wanted)));
        const ok = await this.#call(this.#releases.add({ lease, delaySeconds }), 'release failed');
        this.counts.retried++;
        job.logger.warn(
          { outcome: 'retried', durationMs, delaySeconds, err: outcome.error },
          'job failed, will retry',
        );
        this.#o.events.emit('job:retried', { ...job.ref, durationMs, delaySeconds, error: outcome.error });
        return { call: 'release', ok };
      }
      case 'permanent':
        return this.#deadLetter(job, `permanent failure: ${outcome.error.message}`, outcome.error);
      case 'poison':
        return this.#deadLetter(job, outcome.reason, undefined);
      case 'interrupted': {
        const reason = job.releaseReason ?? this.#o.interruptReason();
        const ok = await this.#call(this.#releases.add({ lease, delaySeconds: 0 }), 'release failed');
        this.#released(job, reason, outcome.error);
        return { call: 'release', ok };
      }
      case 'lease-lost':
        this.#released(job, 'lease-lost', outcome.error);
        return { call: 'none', ok: true };
    }
  }

  async #deadLetter(job: JobExecution, reason: string, error: Error | undefined): Promise<SettleResult> {
    const { queue } = this.#o.options;
    const ok = await this.#call(
      queue.deadLetter(job.message, reason, this.#o.signal).then(() => undefined),
      'dead-letter failed',
    );
    this.counts.deadLettered++;
    job.logger.error(
      { outcome: 'dead-lettered', reason, durationMs: job.durationMs, err: error },
      'job dead-lettered',
    );
    this.#o.events.emit('job:dead-lettered', { ...job.ref, reason });
    return { call: 'dead-letter', ok };
  }

  #released(job: JobExecution, reason: ReleaseReason, error: Error | undefined): void {
    this.counts.released++;
    const line = { outcome: 'released', reason, durationMs: job.durationMs, err: error };
    if (reason === 'lease-lost') job.logger.warn(line, 'job abandoned: lease lost');
    else job.logger.info(line, 'job released');
    this.#o.events.emit('job:released', { ...job.ref, reason });
  }

  async #call(call: Promise<LeaseResult | undefined>, what: string): Promise<boolean> {
    try {
      const result = await call;
      if (result && !result.ok) {
        this.#o.reportError(result.error ?? new Error(`${what}: lease ${result.reason}`), what);
        return false;
      }
      return true;
    } catch (error) {
      this.#o.reportError(error as Error, what);
      return false;
    }
  }
}
