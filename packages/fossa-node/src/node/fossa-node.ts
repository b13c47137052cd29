import { randomInt } from 'node:crypto';
import type { Claim, Clock, JsonObject, Logger, Queue, Table, TableItem } from '@spotjobs/core';
import {
  AbortedError,
  ClaimStore,
  LeaseLostError,
  Runner,
  silentLogger,
  systemClock,
  ValidationError,
} from '@spotjobs/core';
import type { DatasetIoOptions } from '../datasets/dataset-io.ts';
import { type Permit, Semaphore } from '../dispatch/semaphore.ts';
import { releasingSlotWhileWaiting } from '../dispatch/subtask-dispatcher.ts';
import type { DistributionHooks } from '../distribution/distribution-hooks.ts';
import { OutcomeSignals } from '../distribution/outcome-signals.ts';
import { QueueDispatcher } from '../distribution/queue-dispatcher.ts';
import { subtaskJob } from '../distribution/subtask-job.ts';
import { isFinished, specOf, statusOf, type TaskRecord } from '../distribution/task-records.ts';
import { TaskStore } from '../distribution/task-store.ts';
import { InvalidTaskSpecError } from '../errors.ts';
import type { ModelRegistry } from '../model/model-registry.ts';
import { runModel } from '../model/run-model.ts';
import { checkTaskSpec, type TaskSpec } from '../model/task-spec.ts';
import { NodeActivity } from './node-activity.ts';
import { taskSummary } from './task-summary.ts';

export interface FossaNodeOptions {
  /** Unique per process: it owns parent claims and keys the heartbeat. */
  readonly nodeId: string;
  readonly queue: Queue;
  readonly table: Table;
  /** The allow-list of model classes. */
  readonly registry: ModelRegistry;
  /** Tasks and subtasks running here at once (Fossa: CPUs × CPU_TASK_RATIO). */
  readonly capacity: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly datasets?: DatasetIoOptions;
  /** Subtask messages this node holds at once (default 2 × capacity: some may be parents waiting). */
  readonly runnerConcurrency?: number;
  /** Lease per subtask delivery, renewed while it runs; a dead node's subtasks come back after it (default 30 s). */
  readonly visibilityTimeoutSeconds?: number;
  /** A subtask attempt running longer fails (and is retried once) (default 15 min). */
  readonly subtaskTimeoutMs?: number;
  /** Attempts per subtask (default 2: Fossa retries once). */
  readonly subtaskAttempts?: number;
  /** A parent's claim TTL: another node resumes it this long after its node died (default 15 s). */
  readonly parentLeaseMs?: number;
  /** How often this node looks for parents to resume (default 1 s). */
  readonly resumeIntervalMs?: number;
  /** How often the heartbeat is written (default 2 s). */
  readonly heartbeatIntervalMs?: number;
  /** How often a waiting parent reads outcomes recorded elsewhere (default 200 ms). */
  readonly outcomePollMs?: number;
  /** Long-poll wait of the subtask runner, seconds (default 20). */
  readonly pollWaitSeconds?: number;
  /** Drain time of `stop()` for running subtasks (default 25 s). */
  readonly shutdownGraceMs?: number;
  /** Let the runner stop on SIGTERM/SIGINT (the daemon turns it on); the node follows it. */
  readonly handleSignals?: boolean;
  readonly hooks?: DistributionHooks;
}

/** What `submit` answers: Fossa's 200, 400, 412 and 503. */
export type SubmitOutcome =
  | { readonly kind: 'accepted'; readonly taskId: string }
  | { readonly kind: 'invalid'; readonly problems: readonly string[] }
  | { readonly kind: 'not-accepted'; readonly message: string }
  | { readonly kind: 'full' };

const TASK_ID_LETTERS = 'abcdefghijklmnopqrstuvwxyz';
/** Heartbeats between two prunings of the finished listings (the first beat prunes). */
const PRUNE_EVERY_BEATS = 10;

/**
 * Fossa's task id: 5 random lowercase letters (taken `ifAbsent`, so unique here).
 *
 * @example
 * ```ts
 * newTaskId(); // 'qwert'
 * ```
 */
export function newTaskId(): string {
  let id = '';
  for (let i = 0; i < 5; i++) id += TASK_ID_LETTERS[randomInt(TASK_ID_LETTERS.length)];
  return id;
}

/**
 * A Fossa node on the spotjobs core. Tasks submitted here run here, each holding one of
 * `capacity` compute slots (a `Semaphore`: `submit` answers `full` rather than over-accept).
 * A partitioned model's subtasks go to the shared queue and run on any node (this one's
 * runner takes them when it has slots); while a parent waits on them it gives its slot back.
 *
 * Task state lives in the Table, so any node answers for any task. A parent is held under a
 * claim (`ClaimStore`, renewed while it runs); every node sweeps the unfinished parents and
 * takes over one whose claim lapsed (its node died, or released it on SIGTERM), running it
 * again: outcomes already recorded are replayed, nothing completed runs twice. The node's
 * heartbeat (id, address, capacity, running tasks) is in the Table for the cluster view.
 *
 * @example
 * ```ts
 * const node = await FossaNode.create({ nodeId: 'node-a', queue, table, registry, capacity: 4 });
 * const done = node.start();
 * const outcome = await node.submit({ model_class: 'NothingEtl' });
 * await node.stop();
 * ```
 */
export class FossaNode {
  readonly nodeId: string;
  readonly capacity: number;
  readonly store: TaskStore;
  readonly runner: Runner;
  readonly activity = new NodeActivity();
  /** `host:port` of this node's HTTP API, for the heartbeat; set once the server listens. */
  address: string | null = null;
  readonly #options: FossaNodeOptions;
  readonly #slots: Semaphore;
  readonly #claims: ClaimStore;
  readonly #dispatcher: QueueDispatcher;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  readonly #parents = new Map<string, { readonly abort: AbortController; readonly done: Promise<void> }>();
  readonly #stopping = new AbortController();
  #done: Promise<void> | undefined;
  #beats = 0;

  private constructor(options: FossaNodeOptions, runner: Runner, parts: NodeParts) {
    this.#options = options;
    this.nodeId = options.nodeId;
    this.capacity = options.capacity;
    this.runner = runner;
    this.store = parts.store;
    this.#slots = parts.slots;
    this.#dispatcher = parts.dispatcher;
    this.activity = parts.activity;
    this.#logger = parts.logger;
    this.#clock = parts.clock;
    this.#claims = new ClaimStore({ table: options.table, clock: parts.clock });
    this.#leaseMs = options.parentLeaseMs ?? 15_000;
  }

  static async create(options: FossaNodeOptions): Promise<FossaNode> {
    checkOptions(options);
    const logger = (options.logger ?? silentLogger).child({ nodeId: options.nodeId });
    const clock = options.clock ?? systemClock;
    const store = new TaskStore(options.table);
    const slots = new Semaphore(options.capacity);
    const signals = new OutcomeSignals();
    const activity = new NodeActivity();
    const jobTimeoutMs = options.subtaskTimeoutMs ?? 15 * 60_000;
    const visibilitySeconds = options.visibilityTimeoutSeconds ?? 30;
    const dispatcher = new QueueDispatcher({
      queue: options.queue,
      store,
      signals,
      pollIntervalMs: options.outcomePollMs,
      // Past every retry and redelivery a subtask can go through (maxAttempts + 3 deliveries,
      // each up to the job timeout plus a lease), its message must be gone: send it again.
      lostAfterMs: (jobTimeoutMs + visibilitySeconds * 1000) * ((options.subtaskAttempts ?? 2) + 4),
      clock,
      hooks: options.hooks,
    });
    const runner = await Runner.create({
      queue: options.queue,
      concurrency: options.runnerConcurrency ?? options.capacity * 2,
      visibilityTimeoutSeconds: visibilitySeconds,
      jobTimeoutMs,
      // Failures are counted by the job (attempt = delivery); the runner dead-letters only a
      // message that keeps breaking its handler (e.g. the Table unreachable), or keeps killing nodes.
      maxAttempts: 6,
      backoff: { initialSeconds: 0, maxSeconds: 30 },
      pollWaitSeconds: options.pollWaitSeconds ?? 20,
      pollLingerMs: 0,
      shutdownGraceMs: options.shutdownGraceMs,
      handleSignals: options.handleSignals ?? false,
      logger,
      clock,
      job: subtaskJob({
        nodeId: options.nodeId,
        store,
        registry: options.registry,
        slots,
        dispatcher,
        signals,
        activity,
        logger,
        clock,
        datasets: options.datasets,
        maxAttempts: options.subtaskAttempts,
        jobTimeoutMs,
        hooks: options.hooks,
      }),
    });
    return new FossaNode(options, runner, { store, slots, dispatcher, activity, logger, clock });
  }

  /** Compute slots free now (Fossa's `available_processing_capacity`). */
  get available(): number {
    return this.#slots.available;
  }

  /**
   * Starts taking subtasks, sweeping for parents to resume and writing heartbeats. Resolves
   * once the node has stopped (`stop()`, or SIGTERM with `handleSignals`).
   */
  start(): Promise<void> {
    this.#done ??= this.#run();
    return this.#done;
  }

  async #run(): Promise<void> {
    this.runner.on('state', (state) => {
      if (state === 'STOPPING') this.#stopParents();
    });
    const running = this.runner.run();
    const signal = this.#stopping.signal;
    const loops = [
      this.#every(this.#options.heartbeatIntervalMs ?? 2000, signal, 'heartbeat', () =>
        this.#heartbeat(signal),
      ),
      this.#every(this.#options.resumeIntervalMs ?? 1000, signal, 'resume sweep', () =>
        this.#resumeSweep(signal),
      ),
    ];
    await running;
    this.#stopParents();
    await Promise.all([...loops, ...[...this.#parents.values()].map((p) => p.done)]);
    await this.store.table.delete({ pk: 'nodes', sk: this.nodeId }).catch(() => {});
  }

  /** Stops: parents running here hand over at once (their claims released), subtasks drain. */
  async stop(): Promise<void> {
    this.#stopParents();
    if (this.runner.state === 'INITIALIZED') return;
    await this.runner.stop();
    await this.#done;
  }

  #stopParents(): void {
    if (this.#stopping.signal.aborted) return;
    this.#stopping.abort(new AbortedError());
  }

  /** Submits a task (an HTTP body, parsed): Fossa checks capacity first, then the fields, then the class. */
  async submit(body: unknown, signal?: AbortSignal): Promise<SubmitOutcome> {
    if (this.#stopping.signal.aborted) return { kind: 'full' };
    const permit = this.#slots.tryAcquire();
    if (!permit) return { kind: 'full' };
    let handedOver = false;
    try {
      let spec: TaskSpec;
      try {
        spec = checkTaskSpec(body);
      } catch (err) {
        if (err instanceof InvalidTaskSpecError) return { kind: 'invalid', problems: err.issues };
        throw err;
      }
      try {
        this.#options.registry.assertCallable(spec.model_class, spec.method);
      } catch (err) {
        return { kind: 'not-accepted', message: err instanceof Error ? err.message : String(err) };
      }
      const created = await this.#createTask(spec, signal);
      const taskId = created.data.task_id;
      const [claim] = await Promise.all([
        this.#claims.claim(parentKey(taskId), this.nodeId, { ttlMs: this.#leaseMs }, signal),
        this.store.addActiveParent(taskId, signal),
        this.store.listRunning(created.data, signal),
      ]);
      if (!claim) throw new Error(`the claim of new task ${taskId} was taken`);
      this.#startParent(created, claim, permit);
      handedOver = true;
      return { kind: 'accepted', taskId: created.data.task_id };
    } finally {
      if (!handedOver) permit.release();
    }
  }

  async #createTask(spec: TaskSpec, signal?: AbortSignal): Promise<TableItem<TaskRecord>> {
    for (let tries = 0; tries < 20; tries++) {
      const record: TaskRecord = {
        ...spec,
        task_id: newTaskId(),
        parent_task_id: null,
        status: 'running',
        node_id: this.nodeId,
        attempt: 1,
        resumed: 0,
        started: this.#clock.now(),
        finished: null,
        results: null,
        stats: null,
      };
      const created = await this.store.createTask(record, signal);
      if (created) return created;
    }
    throw new Error('no free task id after 20 tries');
  }

  /** Fossa's task summary for any task in the Table, or undefined. */
  async task(taskId: string, signal?: AbortSignal): Promise<JsonObject | undefined> {
    const item = await this.store.getTask(taskId, signal);
    return item && taskSummary(item.data);
  }

  /** Fossa's `node_info`, from this node's memory. */
  nodeInfo(): JsonObject {
    return {
      node_info: {
        node_ident: this.nodeId,
        max_concurrent_tasks: this.capacity,
        available_processing_capacity: this.#slots.available,
      },
      running_tasks: this.activity.running().map(taskSummary),
      recent_completed_tasks: this.activity.recent().map(taskSummary),
    };
  }

  #startParent(item: TableItem<TaskRecord>, claim: Claim, permit: Permit): void {
    const taskId = item.data.task_id;
    const abort = new AbortController();
    const done = this.#runParent(item, claim, permit, abort).finally(() => this.#parents.delete(taskId));
    this.#parents.set(taskId, { abort, done });
  }

  async #runParent(
    item: TableItem<TaskRecord>,
    first: Claim,
    permit: Permit,
    abort: AbortController,
  ): Promise<void> {
    const record = item.data;
    const taskId = record.task_id;
    const signal = AbortSignal.any([abort.signal, this.#stopping.signal]);
    let claim = first;
    let lost = false;
    this.activity.started(record);
    let renewing = false;
    const renewal = setInterval(
      () => {
        if (renewing) return; // one renewal at a time: each is conditioned on the last one's version
        renewing = true;
        this.#claims
          .renew(claim, {}, signal)
          .then(
            (renewed) => {
              claim = renewed;
            },
            (err: unknown) => {
              if (signal.aborted) return;
              if (!(err instanceof LeaseLostError)) {
                this.#logger.warn({ taskId, err }, 'parent claim not renewed; trying again');
                return;
              }
              lost = true;
              this.#logger.warn({ taskId, err }, 'parent claim lost; another node has it');
              abort.abort(err);
            },
          )
          .finally(() => {
            renewing = false;
          });
      },
      Math.max(50, Math.floor(this.#leaseMs / 3)),
    );
    try {
      const { result, stats } = await runModel(
        {
          registry: this.#options.registry,
          logger: this.#logger,
          clock: this.#clock,
          datasets: this.#options.datasets,
          dispatcher: releasingSlotWhileWaiting(this.#dispatcher, permit),
        },
        { taskId, spec: specOf(record), signal },
      );
      clearInterval(renewal);
      const final: TaskRecord = {
        ...record,
        status: statusOf(result),
        finished: this.#clock.now(),
        results: result,
        stats,
      };
      // Fenced by the version this node wrote: a node that took the parent over wrote since.
      const written = await this.store.updateTask(final, item.version);
      if (!written) {
        this.#logger.warn({ taskId }, 'parent finished here but another node holds it now; result dropped');
        this.activity.left(taskId);
        return;
      }
      this.activity.finished(final);
      this.#options.hooks?.taskFinished?.(taskId, performance.now());
      await this.#claims
        .complete(claim)
        .catch((err: unknown) => this.#logger.warn({ taskId, err }, 'parent claim not completed'));
      await this.store.listFinished(final, record);
      await this.store.removeActiveParent(taskId);
    } catch (err) {
      this.activity.left(taskId);
      if (!(err instanceof AbortedError))
        this.#logger.error({ taskId, err }, 'parent run broke; handing it on');
      // Hand the parent on at once (SIGTERM, or an error here) rather than after the claim's TTL.
      if (!lost) await this.#claims.release(claim).catch(() => {});
    } finally {
      clearInterval(renewal);
      permit.release();
    }
  }

  /** Takes over unfinished parents whose claim lapsed, while this node has free slots. */
  async #resumeSweep(signal: AbortSignal): Promise<void> {
    for (const taskId of await this.store.activeParents(signal)) {
      if (this.#parents.has(taskId) || signal.aborted) continue;
      const state = await this.#claims.get(parentKey(taskId), signal);
      if (state?.held) continue;
      const item = await this.store.getTask(taskId, signal);
      if (!item || state?.completed || isFinished(item.data)) {
        await this.store.removeActiveParent(taskId, signal);
        continue;
      }
      // Never claimed yet: its node may be between creating it and claiming it.
      if (!state && this.#clock.now() - (item.data.started ?? 0) < this.#leaseMs) continue;
      const permit = this.#slots.tryAcquire();
      if (!permit) return;
      let handedOver = false;
      try {
        const claim = await this.#claims.claim(
          parentKey(taskId),
          this.nodeId,
          { ttlMs: this.#leaseMs },
          signal,
        );
        if (!claim) continue;
        const takeover: TaskRecord = { ...item.data, node_id: this.nodeId, resumed: item.data.resumed + 1 };
        const written = await this.store.updateTask(takeover, item.version, signal);
        if (!written) {
          await this.#claims.release(claim, signal);
          continue;
        }
        this.#logger.info({ taskId, from: item.data.node_id }, 'resuming a parent whose node is gone');
        await this.store.moveRunning(item.data, takeover, signal);
        this.#startParent(written, claim, permit);
        handedOver = true;
      } finally {
        if (!handedOver) permit.release();
      }
    }
  }

  async #heartbeat(signal: AbortSignal): Promise<void> {
    await this.store.heartbeat(
      {
        node_id: this.nodeId,
        address: this.address,
        capacity: this.capacity,
        available: this.#slots.available,
        running_task_ids: this.activity.running().map((r) => r.task_id),
        last_seen: this.#clock.now(),
      },
      signal,
    );
    // The listings are read whole to be pruned: often enough to keep them near their bound,
    // rarely enough that a big cluster does not spend its read capacity on it.
    if (this.#beats++ % PRUNE_EVERY_BEATS === 0) {
      await this.store.pruneFinished(`finished#${this.nodeId}`, signal);
      await this.store.pruneFinished('finished', signal);
    }
  }

  /** Runs `fn` now and then every `ms` until `signal` aborts; errors are logged, never thrown. */
  async #every(ms: number, signal: AbortSignal, what: string, fn: () => Promise<void>): Promise<void> {
    while (!signal.aborted) {
      try {
        await fn();
      } catch (err) {
        if (!signal.aborted) this.#logger.warn({ err }, `${what} failed`);
      }
      await this.#clock.sleep(ms, signal).catch(() => {});
    }
  }
}

interface NodeParts {
  readonly store: TaskStore;
  readonly slots: Semaphore;
  readonly dispatcher: QueueDispatcher;
  readonly activity: NodeActivity;
  readonly logger: Logger;
  readonly clock: Clock;
}

function parentKey(taskId: string): string {
  return `parent#${taskId}`;
}

function checkOptions(options: FossaNodeOptions): void {
  const problems: string[] = [];
  if (typeof options.nodeId !== 'string' || options.nodeId === '')
    problems.push('nodeId must be a non-empty string');
  if (!Number.isInteger(options.capacity) || options.capacity < 1)
    problems.push('capacity must be a positive integer');
  const lease = options.parentLeaseMs ?? 15_000;
  if (!(lease >= 300)) problems.push('parentLeaseMs must be at least 300');
  if (problems.length > 0) throw new ValidationError('invalid fossa node options', problems);
}
