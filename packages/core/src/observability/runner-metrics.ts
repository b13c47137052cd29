import type { RunnerEvents, RunnerState } from '../runner/runner-events.ts';
import type { MetricsRegistry } from './metrics.ts';

/**
 * What `instrumentRunner` and health checks need from a runner: its typed events and a
 * snapshot. Structural, so observability does not depend on the runner's internals.
 */
export interface ObservableRunner {
  on<E extends keyof RunnerEvents>(event: E, listener: (...args: RunnerEvents[E]) => void): unknown;
  stats(): { state: RunnerState; inFlight: number; concurrency: number };
}

export interface InstrumentRunnerOptions {
  /** The `queue` label on every series, so runners can share a registry; default `default`. */
  readonly queue?: string;
  /** Bounds of `spotjobs_job_duration_seconds`; default `jobDurationBuckets`. */
  readonly durationBuckets?: readonly number[];
}

/** Job durations span a few ms (thumbnails) to hours (builds, renders) on spot capacity. */
export const jobDurationBuckets: readonly number[] = [0.05, 0.25, 1, 5, 15, 60, 300, 900, 3_600, 10_800];

const runnerStates: readonly RunnerState[] = [
  'INITIALIZED',
  'RUNNING',
  'STOPPING',
  'DRAINING',
  'STOPPED',
  'FAILED',
];

/**
 * Subscribes to a runner's events and exposes them as Prometheus metrics:
 *
 * - `spotjobs_jobs_started_total{queue,type}`
 * - `spotjobs_jobs_total{queue,type,outcome}`: outcome `succeeded`, `retried`,
 *   `dead_lettered` or `released` (released: given back without counting as a failure)
 * - `spotjobs_job_releases_total{queue,reason}`: `shutdown`, `interrupted`, `lease-lost`
 * - `spotjobs_job_duration_seconds{queue,type,outcome}`: histogram of succeeded and retried attempts
 * - `spotjobs_leases_lost_total{queue,type}`
 * - `spotjobs_jobs_in_flight{queue}`, `spotjobs_runner_concurrency{queue}`: gauges read at scrape time
 * - `spotjobs_runner_state{queue,state}`: 1 for the current state, 0 for the others
 * - `spotjobs_polls_total{queue}`, `spotjobs_messages_received_total{queue}`
 * - `spotjobs_queue_batches_total{queue,kind}`, `spotjobs_queue_batch_entries_total{queue,kind}`:
 *   batched `extend`/`ack`/`release` calls and the entries they carried
 * - `spotjobs_errors_total{queue,code}`: non-fatal errors by their stable `code` (else class name)
 * - `spotjobs_task_runs_total{queue,task,outcome}` (`ok`/`error`), `spotjobs_task_duration_seconds{queue,task}`
 *
 * A job whose type could not be parsed is labelled `type="unknown"`.
 *
 * @example
 * ```ts
 * const registry = new MetricsRegistry();
 * instrumentRunner(runner, registry, { queue: 'thumbnails' });
 * await startHealthServer({ port: 9464, registry, checks: { runner: runnerIsRunning(runner) } });
 * ```
 */
export function instrumentRunner(
  runner: ObservableRunner,
  registry: MetricsRegistry,
  options: InstrumentRunnerOptions = {},
): void {
  const queue = options.queue ?? 'default';
  const m = registerRunnerMetrics(registry, options.durationBuckets ?? jobDurationBuckets);
  const type = (t: string | undefined) => t ?? 'unknown';

  runner.on('job:started', (job) => m.started.inc({ queue, type: type(job.type) }));
  runner.on('job:succeeded', (job) => {
    const labels = { queue, type: type(job.type), outcome: 'succeeded' };
    m.jobs.inc(labels);
    m.duration.observe(labels, job.durationMs / 1_000);
  });
  runner.on('job:retried', (job) => {
    const labels = { queue, type: type(job.type), outcome: 'retried' };
    m.jobs.inc(labels);
    m.duration.observe(labels, job.durationMs / 1_000);
  });
  runner.on('job:dead-lettered', (job) =>
    m.jobs.inc({ queue, type: type(job.type), outcome: 'dead_lettered' }),
  );
  runner.on('job:released', (job) => {
    m.jobs.inc({ queue, type: type(job.type), outcome: 'released' });
    m.releases.inc({ queue, reason: job.reason });
  });
  runner.on('lease:lost', (job) => m.leasesLost.inc({ queue, type: type(job.type) }));
  runner.on('polled', (received) => {
    m.polls.inc({ queue });
    m.received.inc({ queue }, received);
  });
  runner.on('batch:sent', (batch) => {
    m.batches.inc({ queue, kind: batch.kind });
    m.batchEntries.inc({ queue, kind: batch.kind }, batch.size);
  });
  runner.on('task:ran', (task) => {
    m.taskRuns.inc({ queue, task: task.name, outcome: task.error ? 'error' : 'ok' });
    m.taskDuration.observe({ queue, task: task.name }, task.durationMs / 1_000);
  });
  runner.on('error', (error) => m.errors.inc({ queue, code: errorCode(error) }));

  registry.addCollector(() => {
    const stats = runner.stats();
    m.inFlight.set({ queue }, stats.inFlight);
    m.concurrency.set({ queue }, stats.concurrency);
    for (const state of runnerStates) m.state.set({ queue, state }, state === stats.state ? 1 : 0);
  });
}

function registerRunnerMetrics(r: MetricsRegistry, durationBuckets: readonly number[]) {
  const q = ['queue'] as const;
  return {
    started: r.counter({
      name: 'spotjobs_jobs_started_total',
      help: 'Job attempts started.',
      labelNames: [...q, 'type'],
    }),
    jobs: r.counter({
      name: 'spotjobs_jobs_total',
      help: 'Job attempts finished, by outcome.',
      labelNames: [...q, 'type', 'outcome'],
    }),
    releases: r.counter({
      name: 'spotjobs_job_releases_total',
      help: 'Jobs given back to the queue without counting as a failure, by reason.',
      labelNames: [...q, 'reason'],
    }),
    duration: r.histogram({
      name: 'spotjobs_job_duration_seconds',
      help: 'Duration of job attempts that succeeded or will be retried.',
      labelNames: [...q, 'type', 'outcome'],
      buckets: durationBuckets,
    }),
    leasesLost: r.counter({
      name: 'spotjobs_leases_lost_total',
      help: 'Jobs aborted because their lease passed to another delivery.',
      labelNames: [...q, 'type'],
    }),
    inFlight: r.gauge({ name: 'spotjobs_jobs_in_flight', help: 'Jobs running now.', labelNames: q }),
    concurrency: r.gauge({
      name: 'spotjobs_runner_concurrency',
      help: 'Job slots of the runner.',
      labelNames: q,
    }),
    state: r.gauge({
      name: 'spotjobs_runner_state',
      help: 'Runner lifecycle state (1 = current).',
      labelNames: [...q, 'state'],
    }),
    polls: r.counter({ name: 'spotjobs_polls_total', help: 'Queue polls that returned.', labelNames: q }),
    received: r.counter({
      name: 'spotjobs_messages_received_total',
      help: 'Messages received.',
      labelNames: q,
    }),
    batches: r.counter({
      name: 'spotjobs_queue_batches_total',
      help: 'Batched heartbeat, ack and release calls sent.',
      labelNames: [...q, 'kind'],
    }),
    batchEntries: r.counter({
      name: 'spotjobs_queue_batch_entries_total',
      help: 'Entries carried by batched calls.',
      labelNames: [...q, 'kind'],
    }),
    errors: r.counter({
      name: 'spotjobs_errors_total',
      help: 'Non-fatal runner errors.',
      labelNames: [...q, 'code'],
    }),
    taskRuns: r.counter({
      name: 'spotjobs_task_runs_total',
      help: 'Scheduled task runs, by outcome.',
      labelNames: [...q, 'task', 'outcome'],
    }),
    taskDuration: r.histogram({
      name: 'spotjobs_task_duration_seconds',
      help: 'Duration of scheduled task runs.',
      labelNames: [...q, 'task'],
      buckets: jobDurationBuckets,
    }),
  };
}

// Stable codes keep the label's cardinality bounded; free-form messages would not.
function errorCode(error: Error): string {
  const code = (error as { code?: unknown }).code;
  const label = typeof code === 'string' && code.length > 0 ? code : error.name;
  return label.slice(0, 64);
}
