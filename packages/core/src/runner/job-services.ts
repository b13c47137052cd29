import { randomUUID } from 'node:crypto';
import { LeaseLostError, ValidationError } from '../errors.ts';
import type { JsonValue } from '../ports/table.ts';
import type { CheckpointStore } from './checkpoint-store.ts';
import type { ClaimAttempt, ClaimKeeper } from './claim-keeper.ts';
import type { JobClaimOptions } from './job-definition.ts';
import type { JobExecution } from './job-execution.ts';
import type { SettleResult } from './job-settler.ts';
import type { LeaseKeeper } from './lease-keeper.ts';
import type { RunnerEvents } from './runner-events.ts';
import type { CompiledRunnerOptions } from './runner-options.ts';
import type { TypedEmitter } from './typed-emitter.ts';

export interface JobServicesOptions {
  readonly options: CompiledRunnerOptions;
  readonly leases: LeaseKeeper;
  readonly claims: ClaimKeeper;
  readonly checkpoints: CheckpointStore | undefined;
  readonly events: TypedEmitter<RunnerEvents>;
  /** The runner's I/O signal (aborted once it is done). */
  readonly signal: AbortSignal;
  readonly reportError: (error: Error, what: string) => void;
}

/** What the ownership gate found. */
export type Ownership = 'owned' | 'lost' | 'gave-up';

/**
 * What a running job asks of its runner beyond the queue: the ownership gate (lease and
 * claim surely still ours), its claim, and its checkpoints. The runner and `ctx` both go
 * through it, so a checkpoint write and an ack pass the same gate.
 *
 * @example
 * ```ts
 * const services = new JobServices({ options, leases, claims, checkpoints, events, signal, reportError });
 * if ((await services.owns(job)) === 'owned') settle(job, outcome);
 * ```
 */
export class JobServices {
  readonly #o: JobServicesOptions;
  /** Unique per runner: with a delivery counter, the owner of each claim it takes. */
  readonly #runnerId = randomUUID();
  #deliveries = 0;
  #gaveUp = false;
  readonly #cleanups = new Set<Promise<void>>();

  constructor(options: JobServicesOptions) {
    this.#o = options;
  }

  /**
   * The ownership gate: resolves once the job's lease (and claim) is confirmed, or found
   * lost, or the gate gave up (its signal aborted: a stopping runner out of time).
   */
  async owns(job: JobExecution, signal = job.gateSignal): Promise<Ownership> {
    const { leases, claims } = this.#o;
    const lease = job.message.lease;
    if (this.#gaveUp) job.giveUp();
    const leaseOk = await leases.confirm(lease, signal);
    const claimOk = leaseOk && (!claims.has(lease) || (await claims.confirm(lease, signal)));
    if (leaseOk && claimOk && !job.isLeaseLost) return 'owned';
    return job.isLeaseLost || !leases.has(lease) ? 'lost' : 'gave-up';
  }

  /** From now on every gate answers at once (the stop's abort phase is over). */
  giveUp(jobs: Iterable<JobExecution>): void {
    this.#gaveUp = true;
    for (const job of jobs) job.giveUp();
  }

  /** The error a job abandoned for a lost lease or claim reports. */
  lostError(job: JobExecution): LeaseLostError {
    const reason = job.leaseSignal.reason;
    return reason instanceof LeaseLostError ? reason : new LeaseLostError(job.message.id);
  }

  /** `ctx.assertOwnership`: one extension and one renewal now, then the gate. */
  async assertOwnership(job: JobExecution): Promise<void> {
    const { leases, claims } = this.#o;
    const lease = job.message.lease;
    if (!job.settling && leases.has(lease)) {
      await Promise.all([
        leases.revalidate([lease]),
        claims.has(lease) ? claims.renewNow(lease, job.gateSignal) : undefined,
      ]);
    }
    if (job.settling || (await this.owns(job)) !== 'owned') throw this.lostError(job);
  }

  /** Takes the job's claim, owned by this runner and delivery. */
  acquireClaim(
    job: JobExecution,
    spec: JobClaimOptions,
    key: string,
    signal: AbortSignal,
  ): Promise<ClaimAttempt> {
    const owner = `${this.#runnerId}/${++this.#deliveries}`;
    const ttlMs = spec.ttlMs ?? this.#o.options.visibilitySeconds * 1000;
    return this.#o.claims.acquire(job.message.lease, spec.store, key, owner, ttlMs, signal);
  }

  /** `ctx.checkpoint`: validated at once, written in call order, behind the gate. */
  async checkpoint(job: JobExecution, state: JsonValue): Promise<void> {
    const store = this.#o.checkpoints;
    if (!store) {
      throw new ValidationError('ctx.checkpoint needs a `checkpoints` BlobStore in the runner options');
    }
    const { id } = job.message;
    const writer = { token: this.#o.claims.get(job.message.lease)?.token ?? 0, attempt: job.attempt };
    const body = store.serialise(id, writer, state, this.#o.options.clock.now());
    const write = async () => {
      if (job.settling) throw new LeaseLostError(id, { cause: new Error('the job was already settled') });
      if ((await this.owns(job)) !== 'owned') throw this.lostError(job);
      job.checkpointsTouched = true;
      const bytes = await store.save(id, writer, body, job.ioSignal);
      job.logger.debug({ bytes }, 'checkpoint stored');
      this.#o.events.emit('job:checkpointed', { ...job.ref, bytes });
    };
    const written = job.checkpointChain.then(write, write);
    job.checkpointChain = written.catch(() => {});
    return written;
  }

  /** `ctx.previousCheckpoint`: loaded on first access, memoised unless the load failed. */
  previousCheckpoint(job: JobExecution): Promise<JsonValue | undefined> {
    if (job.previousCheckpoint) return job.previousCheckpoint;
    const store = this.#o.checkpoints;
    if (!store) {
      job.previousCheckpoint = Promise.resolve(undefined);
      return job.previousCheckpoint;
    }
    const loading = store.load(job.message.id, job.ioSignal).then((found) => {
      if (!found) return undefined;
      job.checkpointsTouched = true;
      job.logger.info({ fromAttempt: found.attempt, savedAt: found.savedAt }, 'resuming from a checkpoint');
      return found.state;
    });
    loading.catch(() => {
      if (job.previousCheckpoint === loading) job.previousCheckpoint = undefined;
    });
    job.previousCheckpoint = loading;
    return loading;
  }

  /**
   * Once the job is acked or dead-lettered, its checkpoints go. Only for jobs that wrote or
   * found one: the others cost no request.
   */
  clearCheckpointsAfter(job: JobExecution, settled: Promise<SettleResult>): void {
    const store = this.#o.checkpoints;
    if (!store || !job.checkpointsTouched) return;
    const cleanup = settled
      .then(async (result) => {
        if (!result.ok || (result.call !== 'ack' && result.call !== 'dead-letter')) return;
        const count = await store.clear(job.message.id, this.#o.signal);
        job.logger.debug({ count }, 'checkpoints deleted');
      })
      .catch((error: unknown) => this.#o.reportError(error as Error, 'deleting checkpoints failed'));
    this.#cleanups.add(cleanup);
    void cleanup.finally(() => this.#cleanups.delete(cleanup));
  }

  /** Waits for the checkpoint clean-ups in flight (at shutdown). */
  async drain(): Promise<void> {
    while (this.#cleanups.size > 0) await Promise.all([...this.#cleanups]);
  }
}
