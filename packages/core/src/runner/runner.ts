import type { StandardSchemaV1 } from '@standard-schema/spec';
import PQueue from 'p-queue';
import { AbortedError, InterruptedError, isAbortError, LeaseLostError, ValidationError } from '../errors.ts';
import type { Logger } from '../ports/logger.ts';
import { QueueLimits, type QueueMessage } from '../ports/queue.ts';
import type { JsonObject } from '../ports/table.ts';
import { CheckpointStore } from './checkpoint-store.ts';
import { ClaimKeeper } from './claim-keeper.ts';
import { type CronTaskFn, type CronTaskOptions, CronTasks } from './cron-tasks.ts';
import { defaultInterruptions } from './interruption-options.ts';
import { InterruptionReactor, type InterruptionTarget, type PauseHold } from './interruption-reactor.ts';
import { JobExecution, type JobHost, type JobOutcome } from './job-execution.ts';
import { JobServices } from './job-services.ts';
import { JobSettler } from './job-settler.ts';
import { LeaseKeeper, type LeaseLossReason } from './lease-keeper.ts';
import { Revalidation } from './revalidation.ts';
import type { ReleaseReason, RunnerEvents, RunnerState } from './runner-events.ts';
import {
  type CompiledRunnerOptions,
  compileRunnerOptions,
  type RunnerOptions,
  type SingleJobRunnerOptions,
  type TypedRunnerOptions,
} from './runner-options.ts';
import { stopWindow } from './stop-window.ts';
import { type Listener, TypedEmitter } from './typed-emitter.ts';

/** Why the runner is stopping; becomes the `job:released` reason of the jobs it gives back. */
export type StopReason = Extract<ReleaseReason, 'shutdown' | 'interrupted'>;

export interface StopOptions {
  /** How long in-flight jobs may keep running before they are aborted. Default `shutdownGraceMs`. */
  readonly graceMs?: number;
  /**
   * Epoch ms by which every message must be settled (a spot notice's termination time).
   * Given alone, the whole window up to it (minus the abort grace and a margin) is drain time.
   */
  readonly deadline?: number;
  /** Default `shutdown`. */
  readonly reason?: StopReason;
}

/** A snapshot for health endpoints. */
export interface RunnerStats {
  readonly state: RunnerState;
  /** Polling paused (by `pause()`, a rebalance notice or a hibernation); jobs received keep running. */
  readonly paused: boolean;
  /** Why polling is paused (empty while polling). */
  readonly pausedBy: readonly PauseHold[];
  readonly concurrency: number;
  /** Jobs holding a slot (running, or settling their handler). */
  readonly inFlight: number;
  /** Free slots. */
  readonly available: number;
  /** Handlers that ignored their aborted signal past the grace period and still run. */
  readonly stuck: number;
  /** Leases kept alive by heartbeats. */
  readonly leases: number;
  /** Claims kept alive by renewals. */
  readonly claims: number;
  /** Acks, releases and dead-letters not yet answered (waiting for their batch, or in flight). */
  readonly pendingSettlements: number;
  /** Epoch ms of the last poll start, if any. */
  readonly lastPollAt: number | undefined;
  /** Totals since start, by outcome. */
  readonly jobs: {
    readonly started: number;
    readonly succeeded: number;
    readonly retried: number;
    readonly deadLettered: number;
    readonly released: number;
    readonly duplicates: number;
    readonly deferred: number;
  };
}

interface Stopping {
  reason: StopReason;
  /** Monotonic ms: running jobs are interrupted. */
  drainEnd: number;
  /** Monotonic ms: handlers still running are declared stuck; gates give up. */
  abortEnd: number;
  /** Monotonic ms: the deadline minus the margin (infinite without a deadline). */
  hardEnd: number;
  /** `ctx.deadline`: `abortEnd` as epoch ms. */
  returnByWall: number;
  /** The abort phase was reached: jobs were interrupted. */
  aborting: boolean;
}

/** Time kept in hand before a stop deadline for the last release calls to land. */
const releaseMarginMs = 1_000;
/** Beyond a poll's wait, how long a stop waits for the receive in flight to answer. */
const pollSlackMs = 2_000;
const signals = ['SIGTERM', 'SIGINT'] as const;

/** Outcomes that write for the job (ack, dead-letter): they pass the ownership gate first. */
const gatedOutcomes = new Set<JobOutcome['kind']>([
  'succeeded',
  'duplicate',
  'failed',
  'permanent',
  'poison',
]);

/**
 * The job runner: polls a `Queue` whenever it has a free slot, runs each message's handler
 * with a typed, validated job and an abortable context, keeps leases (and claims) alive with
 * batched heartbeats, settles outcomes with batched acks and releases, reacts to spot
 * interruptions, hibernation and resumes, and shuts down without losing or duplicating work.
 *
 * States (see `RunnerState`): INITIALIZED → RUNNING → STOPPING → DRAINING → STOPPED | FAILED.
 *
 * Shutdown protocol (`stop({ graceMs, deadline })`):
 * ```
 *  t0 stop()        drainEnd = min(t0 + grace, deadline - abortGrace - 1 s)      abortEnd     deadline
 *  |--STOPPING------|--DRAINING-----------------------|--aborting---------------|--flush--|----|
 *  no new poll      jobs finish → batched acks         ctx.signal aborts with     stuck ones
 *  cron stopped     heartbeats keep every lease alive  InterruptedError; returns  released at
 *                   ctx.deadline = abortEnd            → ack / release(0)        once anyway;
 *  late deliveries and queued jobs: release(0) at once                           acks, logs flushed;
 *                                                         the poll in flight ends (see below)
 * ```
 * Released messages are visible again immediately, so another host picks them up without
 * waiting out the visibility timeout. A later `stop()` with a `graceMs` or `deadline` (a
 * spot notice during a graceful shutdown) can only bring `drainEnd` and `abortEnd` forward.
 *
 * Polls are never cancelled before messages are given back: a long poll cancelled by the
 * client stays open at SQS for its whole wait and may take a message just released, which
 * then stays hidden for a visibility timeout (aws-sdk-js#2350; fauxqs does it too). So
 * `pause()` and holds only stop the next poll, and a stop that released messages lets the
 * poll in flight end by itself (at most its wait, never past the deadline) and releases
 * whatever it brings; a stop that released nothing cancels it at once.
 *
 * Interruptions (`interruptions.sources`, see `InterruptionReactor` for the table):
 * terminate/stop → `stop({ deadline: at - releaseMarginMs, graceMs: drainMs, reason:
 * 'interrupted' })`, so by default jobs are interrupted at once and their messages released
 * within moments; rebalance → pause; hibernate → hold or release every lease; resume (or
 * the wall clock jumping) → re-validate every lease and claim.
 *
 * Ownership gate: an ack, a dead-letter, a checkpoint write and a claim completion happen
 * only while the job surely owns its lease and claim. After a resume every lease and claim
 * is in doubt until one batched extension and one renewal each confirm it; the writes of
 * the jobs concerned wait for that, and a job whose lease or claim moved on is abandoned:
 * never acked, no result, no checkpoint.
 * ```
 *  resume ─► revalidate: extend(all leases) + renew(all claims) ─► ok: gates open, acks go out
 *            job finishes meanwhile: ack waits ─────────────────► lost: job abandoned (lease-lost)
 * ```
 *
 * @example
 * ```ts
 * const runner = await Runner.create({
 *   queue,
 *   concurrency: 64,
 *   checkpoints: blobs,
 *   interruptions: { sources: [new ImdsInterruptionSource()], hibernate: { policy: 'hold', holdSeconds: 600 } },
 *   jobs: {
 *     resize: {
 *       schema: z.object({ type: z.literal('resize'), key: z.string() }),
 *       claim: { store: claims, key: (job) => `resize#${job.key}` },
 *       async handle(job, ctx) {
 *         const from = ((await ctx.previousCheckpoint) as { row: number } | undefined)?.row ?? 0;
 *         return resize(job.key, from, { signal: ctx.signal, onProgress: (row) => ctx.checkpoint({ row }) });
 *       },
 *     },
 *   },
 * });
 * runner.on('job:dead-lettered', (job) => alert(job.reason));
 * await runner.run(); // until stopped or interrupted
 * ```
 */
export class Runner {
  readonly #o: CompiledRunnerOptions;
  readonly #log: Logger;
  readonly #events: TypedEmitter<RunnerEvents>;
  readonly #slots: PQueue;
  readonly #jobs = new Map<string, JobExecution>();
  readonly #leases: LeaseKeeper;
  readonly #claims: ClaimKeeper;
  readonly #settler: JobSettler;
  readonly #cron: CronTasks;
  readonly #reactor: InterruptionReactor;
  readonly #services: JobServices;
  /** Cancels queue calls still in flight once the runner is done (or hopelessly late). */
  readonly #io = new AbortController();
  readonly #host: JobHost;
  readonly #done: Promise<void>;
  #resolveDone: () => void = () => {};
  #rejectDone: (error: Error) => void = () => {};
  /** Resolves once a stopping runner has settled every job (the `stop` reaction's end). */
  readonly #flushed: Promise<void>;
  #resolveFlushed: () => void = () => {};
  #state: RunnerState = 'INITIALIZED';
  #consume: { readonly controller: AbortController; readonly done: Promise<void> } | undefined;
  /** A receive is in flight: `capacity` granted a poll and was not asked again yet. */
  #pollInFlight = false;
  /** `change`: holds or stopping changed (capacity re-checks); `poll-ended`: a receive finished. */
  readonly #pollEvents = new EventTarget();
  readonly #holds = new Set<PauseHold>();
  #stopping: Stopping | undefined;
  /** Wakes shutdown waits when a later stop() brought the window forward. */
  readonly #windowChanged = new Set<() => void>();
  #giveUpTimer: { cancel(): void } | undefined;
  #stopped: Promise<void> | undefined;
  #failure: Error | undefined;
  #stuck = 0;
  #lastPollAt: number | undefined;
  #signalHandler: ((signal: NodeJS.Signals) => void) | undefined;
  readonly #revalidation: Revalidation;

  /**
   * Compiles and checks `options` (throwing `ValidationError` listing every problem) and
   * builds a runner in state INITIALIZED. No I/O happens until `run()`.
   */
  static create<Schemas extends Record<string, StandardSchemaV1>>(
    options: TypedRunnerOptions<Schemas>,
  ): Promise<Runner>;
  static create<Schema extends StandardSchemaV1>(options: SingleJobRunnerOptions<Schema>): Promise<Runner>;
  static async create(options: RunnerOptions): Promise<Runner> {
    return new Runner(compileRunnerOptions(options));
  }

  private constructor(options: CompiledRunnerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ queue: options.queue.name });
    this.#events = new TypedEmitter<RunnerEvents>((error, event) =>
      this.#log.error({ err: error, event }, 'runner event listener threw'),
    );
    this.#slots = new PQueue({ concurrency: options.concurrency });
    this.#done = new Promise<void>((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    // Nobody may await `run()` (a library that only calls `stop()`); never an unhandled rejection.
    this.#done.catch(() => {});
    this.#flushed = new Promise<void>((resolve) => {
      this.#resolveFlushed = resolve;
    });

    this.#leases = new LeaseKeeper({
      queue: options.queue,
      clock: options.clock,
      visibilitySeconds: options.visibilitySeconds,
      intervalMs: options.heartbeatIntervalMs,
      thresholdMs: options.heartbeatThresholdMs,
      signal: this.#io.signal,
      onLost: (lease, reason, cause) => this.#onLeaseLost(lease, reason, cause),
      onClockJump: (awayMs) => {
        this.#log.warn({ awayMs }, 'wall clock jumped ahead: re-validating every lease and claim');
        void this.#reactor.resumed('clock-jump');
      },
      onSend: (size) => {
        this.#log.debug({ size }, 'heartbeat batch');
        this.#events.emit('batch:sent', { kind: 'extend', size });
      },
      onError: (error) => this.#reportError(error, 'heartbeat failed'),
    });
    this.#claims = new ClaimKeeper({
      clock: options.clock,
      intervalMs: options.heartbeatIntervalMs,
      signal: this.#io.signal,
      onLost: (lease, error) => this.#onClaimLost(lease, error),
      onError: (error) => this.#reportError(error, 'claim renewal failed'),
    });
    this.#settler = new JobSettler({
      options,
      events: this.#events,
      signal: this.#io.signal,
      reportError: (error, what) => this.#reportError(error, what),
      interruptReason: () => this.#stopping?.reason ?? 'interrupted',
    });
    this.#services = new JobServices({
      options,
      leases: this.#leases,
      claims: this.#claims,
      checkpoints:
        options.checkpoints &&
        new CheckpointStore({
          blobs: options.checkpoints,
          queueName: options.queue.name,
          maxBytes: options.maxCheckpointBytes,
        }),
      events: this.#events,
      signal: this.#io.signal,
      reportError: (error, what) => this.#reportError(error, what),
    });
    this.#revalidation = new Revalidation({
      leases: this.#leases,
      claims: this.#claims,
      clock: options.clock,
      logger: this.#log,
      events: this.#events,
      reportError: (error, what) => this.#reportError(error, what),
    });
    this.#cron = new CronTasks({
      logger: this.#log,
      clock: options.clock,
      onRan: (run) => this.#events.emit('task:ran', run),
    });
    this.#reactor = new InterruptionReactor({
      config: options.interruptions ?? defaultInterruptions,
      clock: options.clock,
      logger: this.#log,
      events: this.#events,
      target: this.#interruptionTarget(),
      reportError: (error, what) => this.#reportError(error, what),
    });
    this.#host = {
      options,
      logger: this.#log,
      deadline: () => this.#stopping?.returnByWall,
      started: (job) => {
        this.#settler.counts.started++;
        job.logger.debug('job started');
        this.#events.emit('job:started', job.ref);
      },
      settledLate: (job, error) => {
        this.#stuck--;
        job.logger.warn(
          { err: error, stuck: this.#stuck },
          'stuck job finally returned; its result was ignored',
        );
      },
      acquireClaim: (job, spec, key, signal) => this.#services.acquireClaim(job, spec, key, signal),
      claimOf: (job) => this.#claims.get(job.message.lease),
      checkpoint: (job, state) => this.#services.checkpoint(job, state),
      previousCheckpoint: (job) => this.#services.previousCheckpoint(job),
      assertOwnership: (job) => this.#services.assertOwnership(job),
    };
  }

  get state(): RunnerState {
    return this.#state;
  }

  /** Subscribes to a runner event; answers a function that unsubscribes. */
  on<E extends keyof RunnerEvents>(event: E, listener: Listener<RunnerEvents, E>): () => void {
    return this.#events.on(event, listener);
  }

  once<E extends keyof RunnerEvents>(event: E, listener: Listener<RunnerEvents, E>): () => void {
    return this.#events.once(event, listener);
  }

  off<E extends keyof RunnerEvents>(event: E, listener: Listener<RunnerEvents, E>): void {
    this.#events.off(event, listener);
  }

  /**
   * Starts polling, heartbeats, claim renewals, cron tasks, the interruption sources and
   * (with `handleSignals`) the signal handlers. Resolves once the runner has STOPPED;
   * rejects with the cause if it FAILED. Calling it again answers the same promise.
   */
  run(): Promise<void> {
    if (this.#state !== 'INITIALIZED') return this.#done;
    this.#setState('RUNNING');
    this.#leases.start();
    this.#claims.start();
    this.#cron.start();
    this.#installSignalHandlers();
    this.#reactor.start();
    this.#applyHolds();
    this.#log.info(
      {
        concurrency: this.#o.concurrency,
        visibilitySeconds: this.#o.visibilitySeconds,
        paused: this.#holds.size > 0,
        interruptionSources: this.#o.interruptions?.sources.map((s) => s.name) ?? [],
        hibernatePolicy: this.#o.interruptions?.hibernate.policy,
      },
      'runner started',
    );
    return this.#done;
  }

  /**
   * Stops taking new work: no poll starts any more, running jobs go on and keep their
   * leases. The poll in flight is not cancelled (see `#applyHolds`): messages it still
   * returns are run.
   */
  pause(): void {
    if (this.#stopping || this.#state === 'STOPPED' || this.#state === 'FAILED') return;
    this.#hold('manual');
  }

  /**
   * Takes new work again after `pause()` or a rebalance notice. A hibernation pause lasts
   * until the resume (or its `resumeAfterMs`).
   */
  resume(): void {
    if (this.#stopping) return;
    this.#unhold('manual', 'rebalance');
  }

  /**
   * Stops gracefully (see the class comment for the timeline); resolves once every message
   * is settled and the logs are flushed. Idempotent: later calls answer the same promise;
   * their `graceMs` or `deadline` count only if they bring the end forward. Never rejects;
   * a failure shows as state FAILED.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.#stopped) {
      this.#tighten(options);
      return this.#stopped;
    }
    this.#stopped = this.#shutdown(options, 'STOPPED');
    return this.#stopped;
  }

  /**
   * Runs `fn` on a cron schedule (node-cron syntax, seconds optional) while the runner runs.
   * Runs never overlap; errors are caught and reported by the `task:ran` event; on stop the
   * task's signal aborts and the drain waits for it like for a job.
   *
   * @example
   * ```ts
   * runner.schedule('expire-stuck-builds', '*\/5 * * * *', (signal) => builds.expireStuck(signal));
   * ```
   */
  schedule(name: string, cronExpression: string, fn: CronTaskFn, options?: CronTaskOptions): void {
    if (this.#stopping || this.#state === 'STOPPED' || this.#state === 'FAILED') {
      throw new ValidationError(`cannot schedule "${name}" on a runner that is ${this.#state}`);
    }
    this.#cron.add(name, cronExpression, fn, options);
  }

  stats(): RunnerStats {
    const inFlight = this.#slots.pending;
    return {
      state: this.#state,
      paused: this.#holds.size > 0,
      pausedBy: [...this.#holds],
      concurrency: this.#o.concurrency,
      inFlight,
      available: Math.max(0, this.#o.concurrency - inFlight - this.#slots.size),
      stuck: this.#stuck,
      leases: this.#leases.size,
      claims: this.#claims.size,
      pendingSettlements: this.#settler.pending,
      lastPollAt: this.#lastPollAt,
      jobs: { ...this.#settler.counts },
    };
  }

  // ---- polling -------------------------------------------------------------------------

  #hold(hold: PauseHold): void {
    if (this.#holds.has(hold)) return;
    this.#holds.add(hold);
    this.#log.info({ by: [...this.#holds] }, 'polling paused');
    this.#applyHolds();
  }

  #unhold(...holds: PauseHold[]): void {
    const before = this.#holds.size;
    for (const hold of holds) this.#holds.delete(hold);
    if (this.#holds.size === before) return;
    if (this.#holds.size === 0) this.#log.info('polling resumed');
    this.#applyHolds();
  }

  /**
   * Polls while no hold is left. A hold never cancels the receive in flight: a long poll
   * cancelled client-side stays open at SQS for its whole wait and may take a message that
   * then stays hidden for its visibility timeout (aws-sdk-js#2350, aws-sdk-net#1680; fauxqs
   * does the same), possibly one this runner just released. Instead the next `capacity`
   * call waits until the holds are gone.
   */
  #applyHolds(): void {
    if (this.#state === 'RUNNING' && !this.#stopping && this.#consume === undefined) this.#startPolling();
    this.#pollEvents.dispatchEvent(new Event('change'));
  }

  /**
   * Ends polling. With `graceful`, the receive in flight may finish first (until `end`, then
   * it is cancelled): whatever it brings is released at once, rather than a cancelled long
   * poll swallowing the messages this stop gives back.
   */
  async #endPolling(graceful: boolean, end: () => number): Promise<void> {
    const consume = this.#consume;
    if (!consume) return;
    this.#pollEvents.dispatchEvent(new Event('change'));
    if (graceful && this.#pollInFlight) {
      const ended = waitForEvent(this.#pollEvents, 'poll-ended', consume.controller.signal).catch(() => {});
      await this.#until(ended, end);
    }
    consume.controller.abort(new AbortedError());
    await this.#until(consume.done, end);
  }

  #startPolling(): void {
    const controller = new AbortController();
    // A new consume waits for the previous one to wind down, so two never poll at once.
    const previous = this.#consume?.done ?? Promise.resolve();
    const done = previous
      .then(async () => {
        if (controller.signal.aborted) return;
        await this.#o.queue.consume({
          visibilitySeconds: this.#o.visibilitySeconds,
          waitSeconds: this.#o.pollWaitSeconds,
          capacity: (signal) => this.#capacity(signal),
          mayReceive: () => this.#holds.size === 0 && !this.#stopping,
          deliver: (messages) => this.#deliver(messages),
          onError: (error) => this.#reportError(error, 'poll failed'),
          signal: controller.signal,
        });
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted && isAbortError(error)) return;
        this.#fail(error instanceof Error ? error : new Error(String(error)));
      });
    this.#consume = { controller, done };
  }

  /**
   * Resolves with the free slot count once there is one and polling is not paused: polling
   * never outruns execution. Being asked again means the previous receive has finished.
   */
  async #capacity(signal: AbortSignal): Promise<number> {
    if (this.#pollInFlight) {
      this.#pollInFlight = false;
      this.#pollEvents.dispatchEvent(new Event('poll-ended'));
    }
    let lingerUntil: number | undefined;
    for (;;) {
      if (signal.aborted) throw new AbortedError({ cause: signal.reason });
      if (this.#holds.size > 0 || this.#stopping) {
        await waitForEvent(this.#pollEvents, 'change', signal);
        continue;
      }
      const free = this.#o.concurrency - this.#slots.pending - this.#slots.size;
      if (free > 0) {
        // Jobs started together tend to finish a few ms apart; polling on the first free slot
        // would split the next receive (and its ack batch) into slivers, each a full request.
        // So with fewer than a full receive free and jobs still running, wait up to
        // `pollLingerMs` for more slots.
        const now = this.#o.clock.monotonic();
        const settled =
          free >= fullReceive(this.#o.concurrency) ||
          this.#slots.pending === 0 ||
          (lingerUntil !== undefined && now >= lingerUntil);
        if (settled) {
          this.#lastPollAt = this.#o.clock.now();
          this.#pollInFlight = true;
          return free;
        }
        lingerUntil ??= now + this.#o.pollLingerMs;
        await this.#nextSlotWithin(lingerUntil - now, signal);
        continue;
      }
      await waitForEvent(this.#slots, 'next', signal);
    }
  }

  /** Resolves when a slot frees or `ms` pass, whichever is first. */
  async #nextSlotWithin(ms: number, signal: AbortSignal): Promise<void> {
    const done = new AbortController();
    const either = AbortSignal.any([signal, done.signal]);
    try {
      await Promise.race([waitForEvent(this.#slots, 'next', either), this.#o.clock.sleep(ms, either)]);
    } catch (error) {
      if (signal.aborted) throw error;
    } finally {
      done.abort();
    }
  }

  #deliver(messages: readonly QueueMessage[]): void {
    this.#events.emit('polled', messages.length);
    for (const message of messages) {
      // Tracked from the moment it is ours, even before a slot takes it.
      this.#leases.track(message.lease);
      const job = new JobExecution(message, this.#host);
      this.#jobs.set(message.lease, job);
      if (this.#stopping || this.#holds.has('hibernate')) {
        // A poll cancelled by stop() or a hibernation may still answer: give the messages back.
        if (!this.#stopping) job.interrupt(new InterruptedError('host hibernating'), 0, 'hibernate');
        void this.#settle(job, { kind: 'interrupted' });
        continue;
      }
      this.#slots
        .add(async () => this.#conclude(job, await job.run()))
        // Only `clear()` (shutdown, hibernation) rejects, and only for jobs that never started.
        .catch(() => this.#settle(job, { kind: 'interrupted' }));
    }
  }

  // ---- outcomes ------------------------------------------------------------------------

  /**
   * From the handler's outcome to the queue: the ownership gate, the claim's completion
   * (before the ack: only the owner can complete), then the settlement.
   */
  async #conclude(job: JobExecution, outcome: JobOutcome): Promise<void> {
    const lease = job.message.lease;
    let final = outcome;
    if (gatedOutcomes.has(final.kind)) {
      const owned = await this.#services.owns(job);
      if (owned === 'lost') final = { kind: 'lease-lost', error: this.#services.lostError(job) };
      // Out of time to find out (a stopping runner): give the message back; if it was not
      // ours any more, the release changes nothing.
      else if (owned === 'gave-up') final = { kind: 'interrupted' };
    }
    if (final.kind === 'succeeded' && this.#claims.has(lease)) {
      try {
        await this.#claims.complete(lease, claimResult(final.result), this.#io.signal);
      } catch (error) {
        if (error instanceof LeaseLostError) {
          this.#claimLost(job, error);
          final = { kind: 'lease-lost', error };
        } else {
          // Whether the write landed is unknown: the next attempt finds the key completed
          // (a duplicate, acked) or still held by us (deferred until our claim expires).
          final = { kind: 'failed', error: error as Error };
        }
      }
    }
    if (this.#claims.has(lease)) {
      // Failed, interrupted or abandoned with the claim still ours: free it for the next attempt.
      await this.#claims.release(lease, this.#io.signal);
    }
    await this.#settle(job, final);
  }

  async #settle(job: JobExecution, outcome: JobOutcome): Promise<void> {
    job.end();
    if (job.stuck) {
      this.#stuck++;
      job.logger.warn(
        { stuck: this.#stuck, durationMs: job.durationMs },
        'job stuck: ignored its aborted signal',
      );
      this.#events.emit('job:stuck', { ...job.ref, durationMs: job.durationMs });
    }
    // Untrack before acking, so a heartbeat answer racing the ack is ignored.
    this.#leases.untrack(job.message.lease);
    this.#claims.untrack(job.message.lease);
    this.#jobs.delete(job.message.lease);
    const settled = this.#settler.settle(job, outcome);
    this.#services.clearCheckpointsAfter(job, settled);
    void settled.then(() => job.finished());
  }

  #onLeaseLost(lease: string, reason: LeaseLossReason, cause: Error | undefined): void {
    const job = this.#jobs.get(lease);
    if (!job) return;
    const error = new LeaseLostError(job.message.id, { cause: cause ?? new Error(`lease ${reason}`) });
    job.logger.warn({ reason }, 'lease lost; aborting the job');
    this.#events.emit('lease:lost', job.ref);
    job.leaseLost(error);
  }

  #onClaimLost(lease: string, error: LeaseLostError): void {
    const job = this.#jobs.get(lease);
    if (job) this.#claimLost(job, error);
  }

  #claimLost(job: JobExecution, error: LeaseLostError): void {
    const claimKey = job.claimKey ?? error.key;
    job.logger.warn({ claimKey }, 'claim taken over; aborting the job');
    this.#events.emit('claim:lost', { ...job.ref, claimKey });
    job.leaseLost(error);
  }

  // ---- interruptions -------------------------------------------------------------------

  #interruptionTarget(): InterruptionTarget {
    const runner = this;
    return {
      get finished() {
        return runner.#state === 'STOPPED' || runner.#state === 'FAILED';
      },
      stop: async (deadline, drainMs) => {
        void this.stop({ deadline, graceMs: drainMs, reason: 'interrupted' });
        await this.#flushed;
      },
      pause: (hold) => {
        if (!this.#stopping) this.#hold(hold);
      },
      unpause: (hold) => this.#unhold(hold),
      releaseAll: (graceMs) => this.#releaseAll(graceMs),
      holdAll: (holdSeconds) => this.#holdAll(holdSeconds),
      revalidate: (trigger) => this.#revalidation.run(trigger),
    };
  }

  /** The hibernate `release` policy: interrupt every job and release its message at once. */
  async #releaseAll(graceMs: number): Promise<void> {
    const jobs = [...this.#jobs.values()];
    this.#settler.hurry();
    const error = new InterruptedError('host hibernating');
    for (const job of jobs) job.interrupt(error, graceMs, 'hibernate');
    // Jobs still waiting for a slot are released without starting.
    this.#slots.clear();
    await Promise.all(jobs.map((job) => job.done));
    if (!this.#stopping) this.#settler.relax();
    this.#log.info({ released: jobs.length, graceMs }, 'hibernating: every job released');
  }

  /** The hibernate `hold` policy: one batched extension of every lease, a renewal of every claim. */
  async #holdAll(holdSeconds: number): Promise<void> {
    const [leases, claims] = await Promise.all([
      this.#leases.hold(holdSeconds),
      this.#claims.hold(holdSeconds * 1000),
    ]);
    this.#log.info(
      {
        holdSeconds,
        leases: leases.checked,
        leasesLost: leases.lost,
        claims: claims.checked,
        claimsLost: claims.lost,
      },
      'hibernating: leases and claims held',
    );
  }

  // ---- shutdown ------------------------------------------------------------------------

  #window(options: StopOptions, startMono: number, startWall: number) {
    const hardEnd =
      options.deadline === undefined
        ? Number.POSITIVE_INFINITY
        : startMono + (options.deadline - startWall) - releaseMarginMs;
    const window = stopWindow({
      startMono,
      startWall,
      graceMs: options.graceMs,
      defaultGraceMs: this.#o.shutdownGraceMs,
      deadline: options.deadline,
      abortGraceMs: this.#o.abortGraceMs,
      marginMs: releaseMarginMs,
    });
    return { ...window, hardEnd };
  }

  /** A later stop() with a sooner end: bring the drain and abort ends forward, never back. */
  #tighten(options: StopOptions): void {
    const s = this.#stopping;
    if (!s || this.#state === 'STOPPED' || this.#state === 'FAILED') return;
    if (options.graceMs === undefined && options.deadline === undefined) return;
    const { clock } = this.#o;
    const w = this.#window(options, clock.monotonic(), clock.now());
    if (options.reason === 'interrupted' && s.reason !== 'interrupted') {
      s.reason = 'interrupted';
      this.#settler.hurry();
    }
    if (w.drainEnd >= s.drainEnd && w.abortEnd >= s.abortEnd) return;
    s.drainEnd = Math.min(s.drainEnd, w.drainEnd);
    s.abortEnd = Math.min(s.abortEnd, w.abortEnd);
    s.hardEnd = Math.min(s.hardEnd, w.hardEnd);
    s.returnByWall = Math.min(s.returnByWall, w.abortEndWall);
    this.#log.info(
      { reason: s.reason, drainMs: s.drainEnd - clock.monotonic(), deadline: options.deadline },
      'stop brought forward',
    );
    this.#armGiveUp();
    if (s.aborting) this.#interruptAll();
    for (const wake of [...this.#windowChanged]) wake();
  }

  async #shutdown(options: StopOptions, final: 'STOPPED' | 'FAILED'): Promise<void> {
    const { clock } = this.#o;
    if (this.#state === 'INITIALIZED') {
      this.#cron.stop();
      this.#finish(final);
      return;
    }
    if (this.#state === 'STOPPED' || this.#state === 'FAILED') return;

    const reason = options.reason ?? 'shutdown';
    const startMono = clock.monotonic();
    const w = this.#window(options, startMono, clock.now());
    const s: Stopping = {
      reason,
      drainEnd: w.drainEnd,
      abortEnd: w.abortEnd,
      hardEnd: w.hardEnd,
      returnByWall: w.abortEndWall,
      aborting: false,
    };
    this.#stopping = s;
    // An interruption's releases go out at once rather than lingering for a batch.
    if (reason === 'interrupted') this.#settler.hurry();
    this.#armGiveUp();

    // STOPPING: no new work. Cancel the poll, clear jobs that never got a slot, stop cron.
    this.#setState('STOPPING');
    this.#log.info(
      { reason, drainMs: s.drainEnd - startMono, inFlight: this.#slots.pending, deadline: options.deadline },
      'runner stopping',
    );
    this.#removeSignalHandlers();
    // No poll starts any more; the one in flight is ended at the flush (see there).
    this.#pollEvents.dispatchEvent(new Event('change'));
    const releasedBefore = this.#releaseCount();
    this.#slots.clear();
    this.#cron.stop();

    // DRAINING: running jobs may finish (and are acked) until drainEnd; then they are interrupted.
    this.#setState('DRAINING');
    await this.#until(this.#slots.onIdle(), () => s.drainEnd);
    if (this.#slots.pending > 0) {
      s.aborting = true;
      this.#log.info(
        { inFlight: this.#slots.pending, graceMs: Math.max(0, s.abortEnd - clock.monotonic()) },
        'interrupting jobs still running',
      );
      this.#interruptAll();
    }
    // Bounded: every job returns or is declared stuck by abortEnd.
    await this.#slots.onIdle();
    await this.#until(this.#cron.settled(), () => s.abortEnd);

    // Flush: settlements go out now instead of lingering, then heartbeats end.
    await this.#settler.drain();
    this.#resolveFlushed();
    // Having released messages, let the poll in flight end by itself (not past the deadline,
    // nor past a poll's wait): cancelled, it could stay open at SQS and swallow them for a
    // whole visibility timeout. What it brings is released on arrival. Having released
    // nothing, cancel it at once.
    const pollEnd = startMono + this.#o.pollWaitSeconds * 1000 + pollSlackMs;
    await this.#endPolling(this.#releaseCount() > releasedBefore, () => Math.min(pollEnd, s.hardEnd));
    await this.#settler.drain();
    await this.#services.drain();
    await this.#leases.stop();
    await this.#claims.stop();
    await this.#reactor.stop();
    this.#finish(final);
  }

  /** Messages given back so far (released at once, retried later, deferred). */
  #releaseCount(): number {
    const { released, retried, deferred } = this.#settler.counts;
    return released + retried + deferred;
  }

  #interruptAll(): void {
    const s = this.#stopping;
    if (!s) return;
    const graceLeft = Math.max(0, s.abortEnd - this.#o.clock.monotonic());
    const error = new InterruptedError(`runner stopping (${s.reason})`);
    for (const job of this.#jobs.values()) job.interrupt(error, graceLeft);
  }

  /** At abortEnd, ownership gates still waiting give up (their messages are released). */
  #armGiveUp(): void {
    const s = this.#stopping;
    if (!s) return;
    this.#giveUpTimer?.cancel();
    this.#giveUpTimer = this.#o.clock.setTimer(Math.max(0, s.abortEnd - this.#o.clock.monotonic()), () => {
      this.#services.giveUp(this.#jobs.values());
    });
  }

  #finish(final: 'STOPPED' | 'FAILED'): void {
    this.#giveUpTimer?.cancel();
    this.#resolveFlushed();
    this.#io.abort(new AbortedError());
    const stats = this.stats();
    const line = { stuck: stats.stuck, jobs: stats.jobs };
    if (final === 'FAILED') this.#log.error({ ...line, err: this.#failure }, 'runner failed');
    else this.#log.info(line, 'runner stopped');
    // pino with an async destination buffers; flush so the last lines survive the exit.
    (this.#o.logger as Logger & { flush?: () => void }).flush?.();
    this.#setState(final);
    if (final === 'FAILED') this.#rejectDone(this.#failure ?? new Error('runner failed'));
    else this.#resolveDone();
  }

  #fail(error: Error): void {
    this.#reportError(error, 'runner failing');
    if (this.#stopped) return;
    this.#failure = error;
    this.#stopped = this.#shutdown({}, 'FAILED');
  }

  /** Waits for `promise`, but not past monotonic time `end()` (which a tighter stop may move). */
  async #until(promise: Promise<unknown> | undefined, end: () => number): Promise<void> {
    if (!promise) return;
    let settled = false;
    const watched = promise.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    while (!settled) {
      const left = end() - this.#o.clock.monotonic();
      if (left <= 0) return;
      const timer = new AbortController();
      let wake = () => {};
      const changed = new Promise<void>((resolve) => {
        wake = resolve;
      });
      this.#windowChanged.add(wake);
      try {
        await Promise.race([watched, changed, this.#o.clock.sleep(left, timer.signal).catch(() => {})]);
      } finally {
        timer.abort();
        this.#windowChanged.delete(wake);
      }
    }
  }

  // ---- plumbing ------------------------------------------------------------------------

  #setState(state: RunnerState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#events.emit('state', state, previous);
  }

  #reportError(error: Error, what: string): void {
    if (isAbortError(error) && this.#io.signal.aborted) return;
    this.#log.warn({ err: error }, what);
    this.#events.emit('error', error);
  }

  #installSignalHandlers(): void {
    if (!this.#o.handleSignals || this.#signalHandler) return;
    this.#signalHandler = (signal) => {
      this.#log.info({ signal }, 'signal received');
      void this.stop({ reason: 'shutdown' });
    };
    for (const signal of signals) process.on(signal, this.#signalHandler);
  }

  /** Removed at stop: a second signal then gets Node's default (exit at once), the usual escape hatch. */
  #removeSignalHandlers(): void {
    if (!this.#signalHandler) return;
    for (const signal of signals) process.off(signal, this.#signalHandler);
    this.#signalHandler = undefined;
  }
}

/** A handler's return value becomes its claim's result when it is a plain JSON object. */
function claimResult(value: unknown): JsonObject | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null ? (value as JsonObject) : undefined;
}

/** How many free slots make a full receive: SQS's batch of 10, or all slots when fewer. */
function fullReceive(concurrency: number): number {
  return Math.min(QueueLimits.maxBatch, concurrency);
}

/** Resolves on the next `event` of `target`, rejects with `AbortedError` when `signal` aborts. */
function waitForEvent(target: EventTarget, event: string, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = new AbortController();
    target.addEventListener(
      event,
      () => {
        cleanup.abort();
        resolve();
      },
      { once: true, signal: cleanup.signal },
    );
    signal.addEventListener(
      'abort',
      () => {
        cleanup.abort();
        reject(new AbortedError({ cause: signal.reason }));
      },
      { once: true, signal: cleanup.signal },
    );
  });
}
