import type { PauseHold } from '../runner/interruption-reactor.ts';
import type { RunnerEvents, RunnerState } from '../runner/runner-events.ts';
import type { MetricsRegistry } from './metrics.ts';
import { jobDurationBuckets, registerRunnerMetrics } from './runner-metric-set.ts';

/**
 * What `instrumentRunner` and health checks need from a runner: its typed events and a
 * snapshot. Structural, so observability does not depend on the runner's internals.
 */
export interface ObservableRunner {
  on<E extends keyof RunnerEvents>(event: E, listener: (...args: RunnerEvents[E]) => void): unknown;
  stats(): {
    state: RunnerState;
    inFlight: number;
    concurrency: number;
    stuck?: number;
    /** Why polling is paused (empty while polling). */
    pausedBy?: readonly PauseHold[];
    /** Claims kept alive by renewals. */
    claims?: number;
  };
}

export interface InstrumentRunnerOptions {
  /** The `queue` label on every series, so runners can share a registry; default `default`. */
  readonly queue?: string;
  /** Bounds of `spotjobs_job_duration_seconds`; default `jobDurationBuckets`. */
  readonly durationBuckets?: readonly number[];
}

const runnerStates: readonly RunnerState[] = [
  'INITIALIZED',
  'RUNNING',
  'STOPPING',
  'DRAINING',
  'STOPPED',
  'FAILED',
];

// A record, so adding a hold to `PauseHold` fails to compile here until it is listed.
const pauseHoldSet: Record<PauseHold, true> = { manual: true, rebalance: true, hibernate: true };
const pauseHolds = Object.keys(pauseHoldSet) as PauseHold[];

/**
 * Subscribes to a runner's events and exposes them as Prometheus metrics:
 *
 * - `spotjobs_jobs_started_total{queue,type}`
 * - `spotjobs_jobs_total{queue,type,outcome}`: outcome `succeeded`, `retried`,
 *   `dead_lettered`, `released` (given back without counting as a failure), `duplicate`
 *   (its claim was completed before: acked unrun) or `deferred` (another owner holds its
 *   claim: released with a delay)
 * - `spotjobs_job_releases_total{queue,reason}`: `shutdown`, `interrupted`, `hibernate`, `lease-lost`
 * - `spotjobs_job_duration_seconds{queue,type,outcome}`: histogram of succeeded and retried attempts
 * - `spotjobs_leases_lost_total{queue,type}`, `spotjobs_claims_lost_total{queue,type}`: jobs
 *   aborted because another delivery or owner took over (re-validations included)
 * - `spotjobs_checkpoints_total{queue,type}`, `spotjobs_checkpoint_bytes_total{queue,type}`
 * - `spotjobs_interruptions_total{queue,kind,source,reaction}`: notices whose reaction
 *   completed (an ignored notice or a failed reaction is not counted), and
 *   `spotjobs_interruption_reaction_seconds{queue,kind,reaction}`: histogram from the
 *   notice's arrival to that point (`interruptionReactionBuckets`)
 * - `spotjobs_revalidations_total{queue,trigger}` (`resume`, `clock-jump`, `hibernate-timeout`),
 *   `spotjobs_revalidation_leases_lost_total{queue,trigger}`,
 *   `spotjobs_revalidation_claims_lost_total{queue,trigger}`
 * - `spotjobs_jobs_in_flight{queue}`, `spotjobs_runner_concurrency{queue}`, and, when the
 *   runner reports them, `spotjobs_jobs_stuck{queue}`, `spotjobs_claims_held{queue}` and
 *   `spotjobs_runner_paused{queue,by}` (1 per hold in force: `manual`, `rebalance`,
 *   `hibernate`; 0 for the others): gauges read at scrape time
 * - `spotjobs_runner_state{queue,state}`: 1 for the current state, 0 for the others
 * - `spotjobs_polls_total{queue}`, `spotjobs_messages_received_total{queue}`
 * - `spotjobs_queue_batches_total{queue,kind}`, `spotjobs_queue_batch_entries_total{queue,kind}`:
 *   batched `extend`/`ack`/`release` calls and the entries they carried
 * - `spotjobs_errors_total{queue,code}`: non-fatal errors by their stable `code` (else class name)
 * - `spotjobs_task_runs_total{queue,task,outcome}` (`ok`/`error`), `spotjobs_task_duration_seconds{queue,task}`
 *
 * A job whose type could not be parsed is labelled `type="unknown"`. Answers a function that
 * unsubscribes from the runner and stops reading its stats (series already counted stay).
 *
 * @example
 * ```ts
 * const registry = new MetricsRegistry();
 * instrumentRunner(runner, registry, { queue: 'thumbnails' });
 * await startHealthServer({ port: 9464, registry, checks: { runner: runnerRunningCheck(runner) } });
 * ```
 */
export function instrumentRunner(
  runner: ObservableRunner,
  registry: MetricsRegistry,
  options: InstrumentRunnerOptions = {},
): () => void {
  const queue = options.queue ?? 'default';
  // The runner's `on` answers an unsubscribe function; keep them so the caller can detach.
  const offs: unknown[] = [];
  const on = <E extends keyof RunnerEvents>(event: E, listener: (...args: RunnerEvents[E]) => void) => {
    offs.push(runner.on(event, listener));
  };
  const m = registerRunnerMetrics(registry, options.durationBuckets ?? jobDurationBuckets);
  const type = (t: string | undefined) => t ?? 'unknown';

  on('job:started', (job) => m.started.inc({ queue, type: type(job.type) }));
  on('job:succeeded', (job) => {
    const labels = { queue, type: type(job.type), outcome: 'succeeded' };
    m.jobs.inc(labels);
    m.duration.observe(labels, job.durationMs / 1_000);
  });
  on('job:retried', (job) => {
    const labels = { queue, type: type(job.type), outcome: 'retried' };
    m.jobs.inc(labels);
    m.duration.observe(labels, job.durationMs / 1_000);
  });
  on('job:dead-lettered', (job) => m.jobs.inc({ queue, type: type(job.type), outcome: 'dead_lettered' }));
  on('job:released', (job) => {
    m.jobs.inc({ queue, type: type(job.type), outcome: 'released' });
    m.releases.inc({ queue, reason: job.reason });
  });
  on('job:duplicate', (job) => m.jobs.inc({ queue, type: type(job.type), outcome: 'duplicate' }));
  on('job:deferred', (job) => m.jobs.inc({ queue, type: type(job.type), outcome: 'deferred' }));
  on('lease:lost', (job) => m.leasesLost.inc({ queue, type: type(job.type) }));
  on('claim:lost', (job) => m.claimsLost.inc({ queue, type: type(job.type) }));
  on('job:checkpointed', (job) => {
    m.checkpoints.inc({ queue, type: type(job.type) });
    m.checkpointBytes.inc({ queue, type: type(job.type) }, job.bytes);
  });
  on('interruption:handled', ({ kind, source, reaction, latencyMs }) => {
    m.interruptions.inc({ queue, kind, source: source.slice(0, 64), reaction });
    m.reaction.observe({ queue, kind, reaction }, latencyMs / 1_000);
  });
  on('leases:revalidated', (check) => {
    const labels = { queue, trigger: check.trigger };
    m.revalidations.inc(labels);
    m.revalidationLeasesLost.inc(labels, check.leasesLost);
    m.revalidationClaimsLost.inc(labels, check.claimsLost);
  });
  on('polled', (received) => {
    m.polls.inc({ queue });
    m.received.inc({ queue }, received);
  });
  on('batch:sent', (batch) => {
    m.batches.inc({ queue, kind: batch.kind });
    m.batchEntries.inc({ queue, kind: batch.kind }, batch.size);
  });
  on('task:ran', (task) => {
    m.taskRuns.inc({ queue, task: task.name, outcome: task.error ? 'error' : 'ok' });
    m.taskDuration.observe({ queue, task: task.name }, task.durationMs / 1_000);
  });
  on('error', (error) => m.errors.inc({ queue, code: errorCode(error) }));

  const removeCollector = registry.addCollector(() => {
    const stats = runner.stats();
    m.inFlight.set({ queue }, stats.inFlight);
    m.concurrency.set({ queue }, stats.concurrency);
    if (stats.stuck !== undefined) m.stuck.set({ queue }, stats.stuck);
    if (stats.claims !== undefined) m.claims.set({ queue }, stats.claims);
    const pausedBy = stats.pausedBy;
    if (pausedBy) for (const by of pauseHolds) m.paused.set({ queue, by }, pausedBy.includes(by) ? 1 : 0);
    for (const state of runnerStates) m.state.set({ queue, state }, state === stats.state ? 1 : 0);
  });
  return () => {
    removeCollector();
    for (const off of offs) if (typeof off === 'function') off();
  };
}

// Stable codes keep the label's cardinality bounded; free-form messages would not.
function errorCode(error: Error): string {
  const code = (error as { code?: unknown }).code;
  const label = typeof code === 'string' && code.length > 0 ? code : error.name;
  return label.slice(0, 64);
}
