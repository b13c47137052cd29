import type { InterruptionNotice } from '../ports/interruption-source.ts';

/**
 * The runner's lifecycle states and typed events. Metrics, health checks and daemons
 * subscribe to these instead of reaching into the runner.
 *
 * States, in order:
 * - `INITIALIZED`: created, not polling.
 * - `RUNNING`: polling whenever a slot is free.
 * - `STOPPING`: stop requested; no new poll starts. The poll in flight is cancelled at the
 *   flush, or, when the stop released messages, allowed to end first (its messages are
 *   released on arrival), so that a long poll cancelled client-side cannot swallow them.
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

/**
 * Why a message went back to the queue without counting as a failure: a graceful stop, an
 * interruption (spot notice, SIGTERM source), the hibernate `release` policy, or a lost
 * lease or claim (abandoned: nothing was written, the queue redelivers it by itself).
 */
export type ReleaseReason = 'shutdown' | 'interrupted' | 'hibernate' | 'lease-lost';

/** What the runner did about an interruption notice. */
export type InterruptionReaction =
  /** terminate, stop: stop polling, interrupt and release every job before the deadline, stop. */
  | 'stop'
  /** rebalance: stop taking new work; running jobs finish. */
  | 'pause'
  /** hibernate with the `hold` policy: pause, extend every lease and claim to the hold window. */
  | 'hold'
  /** hibernate with the `release` policy: pause, interrupt and release every job. */
  | 'release'
  /** resume: re-validate every lease and claim, then take work again. */
  | 'revalidate'
  /** Nothing to do (a repeat, or the runner is done). */
  | 'ignored';

/** What started a re-validation of every lease and claim. */
export type RevalidationTrigger =
  /** A `resume` notice from an interruption source. */
  | 'resume'
  /** The lease keeper saw the wall clock jump ahead of the monotonic clock. */
  | 'clock-jump'
  /** No resume came within `resumeAfterMs` of awake time after a hibernate notice. */
  | 'hibernate-timeout';

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
  /** The job's claim passed to another owner: the job was aborted and will write nothing. */
  'claim:lost': [job: JobRef & { readonly claimKey: string }];
  /** The job's claim was completed before: acked without running the handler. */
  'job:duplicate': [job: JobRef & { readonly claimKey: string }];
  /** Another live owner holds the job's claim: released to come back after `delaySeconds`. */
  'job:deferred': [job: JobRef & { readonly claimKey: string; readonly delaySeconds: number }];
  /** `ctx.checkpoint` stored a state of `bytes` bytes. */
  'job:checkpointed': [job: JobRef & { readonly bytes: number }];
  /** An interruption source reported a notice (each distinct notice once), and what the runner does. */
  interruption: [notice: InterruptionNotice, reaction: InterruptionReaction];
  /**
   * The reaction to a notice is complete: `stop`: every job held at the notice is acked or
   * released (before the runner reaches STOPPED); `hold`/`release`: the hibernate policy is
   * applied; `revalidate`: every lease and claim re-validated; `pause`: at once.
   * `latencyMs` runs from the notice's arrival (monotonic).
   */
  'interruption:handled': [
    handled: {
      readonly kind: InterruptionNotice['kind'];
      readonly source: string;
      readonly reaction: InterruptionReaction;
      readonly latencyMs: number;
    },
  ];
  /**
   * Every lease (one batched extension) and claim (one renewal each) was re-validated after
   * a resume; jobs whose lease or claim moved on were abandoned (`lease:lost`, `claim:lost`).
   * `unconfirmed` could not be checked (errors) and stay gated until a heartbeat confirms them.
   */
  'leases:revalidated': [
    check: {
      readonly trigger: RevalidationTrigger;
      readonly leases: number;
      readonly leasesLost: number;
      readonly claims: number;
      readonly claimsLost: number;
      readonly unconfirmed: number;
      readonly durationMs: number;
    },
  ];
  /** One batched heartbeat or ack call went out. */
  'batch:sent': [batch: { readonly kind: 'extend' | 'ack' | 'release'; readonly size: number }];
  /** A scheduled (cron) task ran. */
  'task:ran': [task: { readonly name: string; readonly durationMs: number; readonly error?: Error }];
  /** A non-fatal error: a poll, heartbeat or ack call failed (and will be retried). */
  error: [error: Error];
}
