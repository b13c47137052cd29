/**
 * The runner's lifecycle states and typed events. Metrics, health checks and daemons
 * subscribe to these instead of reaching into the runner.
 *
 * States, in order:
 * - `INITIALIZED`: created, not polling.
 * - `RUNNING`: polling whenever a slot is free.
 * - `STOPPING`: stop requested; no new poll starts, the poll in flight is cancelled.
 * - `DRAINING`: waiting for in-flight jobs until the grace period ends, then aborting and
 *   releasing what is left, flushing acks and logs.
 * - `STOPPED`: nothing in flight, every message acked, released or dead-lettered.
 * - `FAILED`: stopped by an unrecoverable error (see the `error` event).
 */
export type RunnerState = 'INITIALIZED' | 'RUNNING' | 'STOPPING' | 'DRAINING' | 'STOPPED' | 'FAILED';

/** Identifies one delivery of one job in events and logs. */
export interface JobRef {
  readonly messageId: string;
  /** The job type the message was routed to (undefined when it could not be parsed). */
  readonly type: string | undefined;
  /** The delivery number, 1 on the first. */
  readonly attempt: number;
}

/** Why a message went back to the queue without counting as a failure. */
export type ReleaseReason = 'shutdown' | 'interrupted' | 'lease-lost';

/** Event name → listener arguments. */
export interface RunnerEvents {
  state: [state: RunnerState, previous: RunnerState];
  /** One poll returned (possibly empty). */
  polled: [received: number];
  'job:started': [job: JobRef];
  'job:succeeded': [job: JobRef & { readonly durationMs: number }];
  /** A failed attempt that will be tried again after `delaySeconds`. */
  'job:retried': [
    job: JobRef & { readonly durationMs: number; readonly delaySeconds: number; readonly error: Error },
  ];
  /** Poison, permanent failure or attempts exhausted: moved to the dead-letter queue. */
  'job:dead-lettered': [job: JobRef & { readonly reason: string }];
  /** Given back at once (visibility 0) without counting as a failure. */
  'job:released': [job: JobRef & { readonly reason: ReleaseReason }];
  /**
   * A handler ignored its aborted signal past the grace period: its message was settled
   * anyway (see the job's terminal event), its slot freed, and its late result will be
   * ignored. It keeps running until it returns (`stats().stuck`).
   */
  'job:stuck': [job: JobRef & { readonly durationMs: number }];
  /** Heartbeats found this lease superseded: the job was aborted and its result will not be written. */
  'lease:lost': [job: JobRef];
  /** One batched heartbeat or ack call went out. */
  'batch:sent': [batch: { readonly kind: 'extend' | 'ack' | 'release'; readonly size: number }];
  /** A scheduled (cron) task ran. */
  'task:ran': [task: { readonly name: string; readonly durationMs: number; readonly error?: Error }];
  /** A non-fatal error: a poll, heartbeat or ack call failed (and will be retried). */
  error: [error: Error];
}
