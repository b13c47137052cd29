import type { StandardSchemaV1 } from '@standard-schema/spec';
import PQueue from 'p-queue';
import { AbortedError, InterruptedError, isAbortError, LeaseLostError, ValidationError } from '../errors.ts';
import type { Logger } from '../ports/logger.ts';
import type { QueueMessage } from '../ports/queue.ts';
import { type CronTaskFn, type CronTaskOptions, CronTasks } from './cron-tasks.ts';
import { JobExecution, type JobHost, type JobOutcome } from './job-execution.ts';
import { JobSettler } from './job-settler.ts';
import { LeaseKeeper, type LeaseLossReason } from './lease-keeper.ts';
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
  /** Polling paused by `pause()` (jobs already received keep running). */
  readonly paused: boolean;
  readonly concurrency: number;
  /** Jobs holding a slot (running, or settling their handler). */
  readonly inFlight: number;
  /** Free slots. */
  readonly available: number;
  /** Handlers that ignored their aborted signal past the grace period and still run. */
  readonly stuck: number;
  /** Leases kept alive by heartbeats. */
  readonly leases: number;
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
  };
}

interface Stopping {
  readonly reason: StopReason;
  /** `ctx.deadline`: when running jobs get interrupted, epoch ms. */
  readonly deadlineWall: number;
}

/** Time kept in hand before a stop deadline for the last release calls to land. */
const releaseMarginMs = 1_000;
const signals = ['SIGTERM', 'SIGINT'] as const;

/**
 * The job runner: polls a `Queue` whenever it has a free slot, runs each message's handler
 * with a typed, validated job and an abortable context, keeps leases alive with batched
 * heartbeats, settles outcomes with batched acks and releases, and shuts down without
 * losing or duplicating work.
 *
 * States (see `RunnerState`): INITIALIZED → RUNNING → STOPPING → DRAINING → STOPPED | FAILED.
 *
 * Shutdown protocol (`stop({ graceMs, deadline })`):
 * ```
 *  t0 stop()        drainEnd = min(t0 + grace, deadline - abortGrace - 1 s)      abortEnd     deadline
 *  |--STOPPING------|--DRAINING-----------------------|--aborting---------------|--flush--|----|
 *  consume aborted  jobs finish → batched acks         ctx.signal aborts with     stuck ones
 *  (long poll cut)  heartbeats keep every lease alive  InterruptedError; returns  released at
 *  cron stopped     ctx.deadline = drainEnd             → ack / release(0)        once anyway;
 *  late deliveries and queued jobs: release(0) at once                           acks, logs flushed
 * ```
 * Released messages are visible again immediately, so another host picks them up without
 * waiting out the visibility timeout.
 *
 * @example
 * ```ts
 * const runner = await Runner.create({
 *   queue,
 *   concurrency: 64,
 *   handleSignals: true,
 *   jobs: {
 *     resize: { schema: z.object({ type: z.literal('resize'), key: z.string() }), handle: (job, ctx) => resize(job.key, ctx.signal) },
 *   },
 * });
 * runner.on('job:dead-lettered', (job) => alert(job.reason));
 * await runner.run(); // until SIGTERM
 * ```
 */
export class Runner {
  readonly #o: CompiledRunnerOptions;
  readonly #log: Logger;
  readonly #events: TypedEmitter<RunnerEvents>;
  readonly #slots: PQueue;
  readonly #jobs = new Map<string, JobExecution>();
  readonly #leases: LeaseKeeper;
  readonly #settler: JobSettler;
  readonly #cron: CronTasks;
  /** Cancels queue calls still in flight once the runner is done (or hopelessly late). */
  readonly #io = new AbortController();
  readonly #host: JobHost;
  readonly #done: Promise<void>;
  #resolveDone: () => void = () => {};
  #rejectDone: (error: Error) => void = () => {};
  #state: RunnerState = 'INITIALIZED';
  #consume: { readonly controller: AbortController; readonly done: Promise<void> } | undefined;
  #paused = false;
  #stopping: Stopping | undefined;
  #stopped: Promise<void> | undefined;
  #failure: Error | undefined;
  #stuck = 0;
  #lastPollAt: number | undefined;
  #signalHandler: ((signal: NodeJS.Signals) => void) | undefined;

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

    this.#leases = new LeaseKeeper({
      queue: options.queue,
      clock: options.clock,
      visibilitySeconds: options.visibilitySeconds,
      intervalMs: options.heartbeatIntervalMs,
      thresholdMs: options.heartbeatThresholdMs,
      signal: this.#io.signal,
      onLost: (lease, reason, cause) => this.#onLeaseLost(lease, reason, cause),
      onSend: (size) => {
        this.#log.debug({ size }, 'heartbeat batch');
        this.#events.emit('batch:sent', { kind: 'extend', size });
      },
      onError: (error) => this.#reportError(error, 'heartbeat failed'),
    });
    this.#settler = new JobSettler({
      options,
      events: this.#events,
      signal: this.#io.signal,
      reportError: (error, what) => this.#reportError(error, what),
      interruptReason: () => this.#stopping?.reason ?? 'interrupted',
    });
    this.#cron = new CronTasks({
      logger: this.#log,
      clock: options.clock,
      onRan: (run) => this.#events.emit('task:ran', run),
    });
    this.#host = {
      options,
      logger: this.#log,
      deadline: () => this.#stopping?.deadlineWall,
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
   * Starts polling, heartbeats, cron tasks and (with `handleSignals`) the signal handlers.
   * Resolves once the runner has STOPPED; rejects with the cause if it FAILED. Calling it
   * again answers the same promise.
   */
  run(): Promise<void> {
    if (this.#state !== 'INITIALIZED') return this.#done;
    this.#setState('RUNNING');
    this.#leases.start();
    this.#cron.start();
    this.#installSignalHandlers();
    if (!this.#paused) this.#startPolling();
    this.#log.info(
      {
        concurrency: this.#o.concurrency,
        visibilitySeconds: this.#o.visibilitySeconds,
        paused: this.#paused,
      },
      'runner started',
    );
    return this.#done;
  }

  /**
   * Stops taking new work (a rebalance recommendation): the poll in flight is cancelled,
   * running jobs go on and keep their leases. Messages a cancelled poll still returns are run.
   */
  pause(): void {
    if (this.#paused || this.#stopping || this.#state === 'STOPPED' || this.#state === 'FAILED') return;
    this.#paused = true;
    this.#consume?.controller.abort(new AbortedError());
    this.#log.info('polling paused');
  }

  /** Takes new work again after `pause()`. */
  resume(): void {
    if (!this.#paused || this.#stopping) return;
    this.#paused = false;
    if (this.#state === 'RUNNING') this.#startPolling();
    this.#log.info('polling resumed');
  }

  /**
   * Stops gracefully (see the class comment for the timeline); resolves once every message
   * is settled and the logs are flushed. Idempotent: later calls answer the same promise
   * (their options are ignored). Never rejects; a failure shows as state FAILED.
   */
  stop(options: StopOptions = {}): Promise<void> {
    this.#stopped ??= this.#shutdown(options, 'STOPPED');
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
      paused: this.#paused,
      concurrency: this.#o.concurrency,
      inFlight,
      available: Math.max(0, this.#o.concurrency - inFlight - this.#slots.size),
      stuck: this.#stuck,
      leases: this.#leases.size,
      pendingSettlements: this.#settler.pending,
      lastPollAt: this.#lastPollAt,
      jobs: { ...this.#settler.counts },
    };
  }

  // ---- polling -------------------------------------------------------------------------

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

  /** Resolves with the free slot count once there is one: polling never outruns execution. */
  async #capacity(signal: AbortSignal): Promise<number> {
    for (;;) {
      if (signal.aborted) throw new AbortedError({ cause: signal.reason });
      const free = this.#o.concurrency - this.#slots.pending - this.#slots.size;
      if (free > 0) {
        this.#lastPollAt = this.#o.clock.now();
        return free;
      }
      await waitForEvent(this.#slots, 'next', signal);
    }
  }

  #deliver(messages: readonly QueueMessage[]): void {
    this.#events.emit('polled', messages.length);
    for (const message of messages) {
      // Tracked from the moment it is ours, even before a slot takes it.
      this.#leases.track(message.lease);
      const job = new JobExecution(message, this.#host);
      this.#jobs.set(message.lease, job);
      if (this.#stopping) {
        // A poll cancelled by stop() may still answer: give the messages straight back.
        this.#settle(job, { kind: 'interrupted' });
        continue;
      }
      this.#slots
        .add(async () => this.#settle(job, await job.run()))
        // Only `clear()` at shutdown rejects, and only for jobs that never started.
        .catch(() => this.#settle(job, { kind: 'interrupted' }));
    }
  }

  // ---- outcomes ------------------------------------------------------------------------

  #settle(job: JobExecution, outcome: JobOutcome): void {
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
    this.#jobs.delete(job.message.lease);
    this.#settler.settle(job, outcome);
  }

  #onLeaseLost(lease: string, reason: LeaseLossReason, cause: Error | undefined): void {
    const job = this.#jobs.get(lease);
    if (!job) return;
    const error = new LeaseLostError(job.message.id, { cause: cause ?? new Error(`lease ${reason}`) });
    job.logger.warn({ reason }, 'lease lost; aborting the job');
    this.#events.emit('lease:lost', job.ref);
    job.leaseLost(error);
  }

  // ---- shutdown ------------------------------------------------------------------------

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
    const { drainEnd, abortEnd, drainEndWall } = stopWindow({
      startMono,
      startWall: clock.now(),
      graceMs: options.graceMs,
      defaultGraceMs: this.#o.shutdownGraceMs,
      deadline: options.deadline,
      abortGraceMs: this.#o.abortGraceMs,
      marginMs: releaseMarginMs,
    });
    this.#stopping = { reason, deadlineWall: drainEndWall };

    // STOPPING: no new work. Cancel the poll, clear jobs that never got a slot, stop cron.
    this.#setState('STOPPING');
    this.#log.info(
      { reason, drainMs: drainEnd - startMono, inFlight: this.#slots.pending, deadline: options.deadline },
      'runner stopping',
    );
    this.#removeSignalHandlers();
    this.#consume?.controller.abort(new AbortedError());
    this.#slots.clear();
    this.#cron.stop();
    await this.#until(this.#consume?.done, drainEnd);

    // DRAINING: running jobs may finish (and are acked) until drainEnd; then they are interrupted.
    this.#setState('DRAINING');
    await this.#until(this.#slots.onIdle(), drainEnd);
    if (this.#slots.pending > 0) {
      const graceLeft = Math.max(0, abortEnd - clock.monotonic());
      this.#log.info(
        { inFlight: this.#slots.pending, graceMs: graceLeft },
        'interrupting jobs still running',
      );
      for (const job of this.#jobs.values()) {
        job.interrupt(new InterruptedError(`runner stopping (${reason})`), graceLeft);
      }
    }
    // Bounded: every job returns or is declared stuck by abortEnd.
    await this.#slots.onIdle();
    await this.#until(this.#cron.settled(), abortEnd);

    // Flush: settlements go out now instead of lingering, then heartbeats end.
    await this.#settler.drain();
    await this.#leases.stop();
    this.#finish(final);
  }

  #finish(final: 'STOPPED' | 'FAILED'): void {
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

  /** Waits for `promise`, but not past monotonic time `end`. */
  async #until(promise: Promise<unknown> | undefined, end: number): Promise<void> {
    if (!promise) return;
    const left = end - this.#o.clock.monotonic();
    if (left <= 0) return;
    const timer = new AbortController();
    try {
      await Promise.race([promise, this.#o.clock.sleep(left, timer.signal).catch(() => {})]);
    } finally {
      timer.abort();
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
