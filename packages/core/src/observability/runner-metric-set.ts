import type { MetricsRegistry } from './metrics.ts';

/** Job durations span a few ms (thumbnails) to hours (builds, renders) on spot capacity. */
export const jobDurationBuckets: readonly number[] = [0.05, 0.25, 1, 5, 15, 60, 300, 900, 3_600, 10_800];

/**
 * Reaction latencies run from a notice's arrival to its reaction being complete: a pause is
 * immediate, a re-validation a few round trips, a stop hands every job over before a spot
 * notice's two minutes are up.
 */
export const interruptionReactionBuckets: readonly number[] = [
  0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
];

// Every series `instrumentRunner` feeds, registered (or found) in one place; see its TSDoc
// for what each one means.
export function registerRunnerMetrics(r: MetricsRegistry, durationBuckets: readonly number[]) {
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
    claimsLost: r.counter({
      name: 'spotjobs_claims_lost_total',
      help: 'Jobs aborted because their claim passed to another owner.',
      labelNames: [...q, 'type'],
    }),
    checkpoints: r.counter({
      name: 'spotjobs_checkpoints_total',
      help: 'Job checkpoints stored.',
      labelNames: [...q, 'type'],
    }),
    checkpointBytes: r.counter({
      name: 'spotjobs_checkpoint_bytes_total',
      help: 'Bytes of job checkpoints stored.',
      labelNames: [...q, 'type'],
    }),
    interruptions: r.counter({
      name: 'spotjobs_interruptions_total',
      help: 'Interruption notices whose reaction completed, by kind, source and reaction.',
      labelNames: [...q, 'kind', 'source', 'reaction'],
    }),
    reaction: r.histogram({
      name: 'spotjobs_interruption_reaction_seconds',
      help: 'Time from an interruption notice to its reaction being complete.',
      labelNames: [...q, 'kind', 'reaction'],
      buckets: interruptionReactionBuckets,
    }),
    revalidations: r.counter({
      name: 'spotjobs_revalidations_total',
      help: 'Re-validations of every lease and claim, by trigger.',
      labelNames: [...q, 'trigger'],
    }),
    revalidationLeasesLost: r.counter({
      name: 'spotjobs_revalidation_leases_lost_total',
      help: 'Leases found lost by re-validations.',
      labelNames: [...q, 'trigger'],
    }),
    revalidationClaimsLost: r.counter({
      name: 'spotjobs_revalidation_claims_lost_total',
      help: 'Claims found lost by re-validations.',
      labelNames: [...q, 'trigger'],
    }),
    inFlight: r.gauge({ name: 'spotjobs_jobs_in_flight', help: 'Jobs running now.', labelNames: q }),
    stuck: r.gauge({
      name: 'spotjobs_jobs_stuck',
      help: 'Handlers that ignored their abort past the grace period and still run.',
      labelNames: q,
    }),
    concurrency: r.gauge({
      name: 'spotjobs_runner_concurrency',
      help: 'Job slots of the runner.',
      labelNames: q,
    }),
    claims: r.gauge({
      name: 'spotjobs_claims_held',
      help: 'Claims kept alive by renewals.',
      labelNames: q,
    }),
    paused: r.gauge({
      name: 'spotjobs_runner_paused',
      help: 'Polling paused, by hold (1 = held).',
      labelNames: [...q, 'by'],
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
