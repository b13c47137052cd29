/**
 * `Queue`: an at-least-once message queue with leases (SQS semantics).
 *
 * Semantics every adapter honours (checked by `queueConformance` in `@spotjobs/core/testing`):
 * - A received message is hidden for `visibilitySeconds` under a *lease*: an opaque handle
 *   unique to that delivery. When the lease runs out the message is delivered again, with a
 *   new lease and `receiveCount` one higher.
 * - `extend` moves the lease's expiry to `visibilitySeconds` from now (past the original
 *   timeout too). `release` is `extend` to `delaySeconds`; `release(0)` redelivers at once.
 * - A lease that has expired and been superseded by a newer delivery is *stale*: `extend` and
 *   `release` report it as `{ ok: false, reason: 'stale' }` and change nothing.
 * - `ack` deletes the message. Acking an unknown or already-deleted lease is not an error
 *   (SQS itself accepts it), so callers must not use `ack` to detect staleness.
 * - `deadLetter` moves a message to this queue's dead-letter queue with its reason and
 *   deletes the original; the reason travels as the `spotjobs.reason` attribute.
 * - Batch calls take any number of entries (adapters chunk them, SQS allows 10 per call)
 *   and answer one result per entry, in order.
 * - Every call takes an `AbortSignal`; an aborted call rejects with `AbortedError`.
 * - Inputs follow SQS's rules (`queue-validation.ts`): a call that breaks one rejects with
 *   `ValidationError` listing every problem, before anything is sent or stored.
 *
 * @example
 * ```ts
 * const [msg] = await queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 20 });
 * if (msg) await queue.ack([msg.lease]);
 * ```
 */
export interface Queue {
  /** A name for logs and metrics. */
  readonly name: string;
  /** Enqueues messages; answers their ids, in order. */
  send(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<string[]>;
  /** One poll: waits up to `waitSeconds` for at least one message. */
  receive(options: ReceiveOptions, signal?: AbortSignal): Promise<QueueMessage[]>;
  /**
   * Polls continuously until `options.signal` aborts, asking `capacity` before each poll so a
   * worker with no free slot does not take messages it cannot start. Resolves once polling
   * has stopped and no receive is in flight.
   */
  consume(options: ConsumeOptions): Promise<void>;
  /** Heartbeat: sets each lease's remaining visibility. */
  extend(entries: readonly LeaseExtension[], signal?: AbortSignal): Promise<LeaseResult[]>;
  /** Gives messages back, visible again after `delaySeconds` (0 = at once). */
  release(entries: readonly LeaseRelease[], signal?: AbortSignal): Promise<LeaseResult[]>;
  /** Deletes messages for good. */
  ack(leases: readonly string[], signal?: AbortSignal): Promise<LeaseResult[]>;
  /** Moves a message to the dead-letter queue with `reason`, then deletes it here. */
  deadLetter(message: QueueMessage, reason: string, signal?: AbortSignal): Promise<void>;
  /** Approximate counts, for health, metrics and tests. */
  depth(signal?: AbortSignal): Promise<QueueDepth>;
}

export interface QueueMessage {
  /** Stable across deliveries. */
  readonly id: string;
  readonly body: string;
  /** This delivery's lease handle (an SQS receipt handle); new on every delivery. */
  readonly lease: string;
  /** 1 on the first delivery. */
  readonly receiveCount: number;
  /** When the message was first sent, epoch ms. */
  readonly sentAt: number;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface OutgoingMessage {
  readonly body: string;
  /** 0–900 s before the message can be received. */
  readonly delaySeconds?: number;
  /** String attributes (at most 10, SQS's limit). */
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface ReceiveOptions {
  /** 1–10. */
  readonly maxMessages: number;
  /** 0–43 200. */
  readonly visibilitySeconds: number;
  /** 0–20: how long a poll may wait for a message. */
  readonly waitSeconds: number;
}

export interface ConsumeOptions {
  readonly visibilitySeconds: number;
  readonly waitSeconds: number;
  /** Resolves with how many messages may be taken now (>= 1); polling waits on it. */
  readonly capacity: (signal: AbortSignal) => Promise<number>;
  /**
   * Asked again right before a poll already waiting takes messages; `false` makes it take
   * none and return to `capacity`. A worker that paused or is stopping uses it so its own
   * open poll does not take back the messages it has just released. Adapters whose polls
   * are served remotely (SQS) cannot recall a request already sent and ignore it.
   */
  readonly mayReceive?: () => boolean;
  /** Receives each batch as it arrives. Must not block: the caller schedules the work. */
  readonly deliver: (messages: QueueMessage[]) => void;
  /** Polling errors; polling goes on after a back-off. */
  readonly onError: (error: Error) => void;
  /** Aborting it stops polling (and cancels a long poll in flight). */
  readonly signal: AbortSignal;
}

export interface LeaseExtension {
  readonly lease: string;
  readonly visibilitySeconds: number;
}

export interface LeaseRelease {
  readonly lease: string;
  readonly delaySeconds: number;
}

export type LeaseResult =
  | { readonly lease: string; readonly ok: true }
  | {
      readonly lease: string;
      readonly ok: false;
      readonly reason: 'stale' | 'failed';
      readonly error?: Error;
    };

export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

/** Attribute names under which `deadLetter` records why and where from. */
export const DeadLetterAttributes = {
  reason: 'spotjobs.reason',
  sourceQueue: 'spotjobs.sourceQueue',
  originalId: 'spotjobs.originalId',
  receiveCount: 'spotjobs.receiveCount',
  deadLetteredAt: 'spotjobs.deadLetteredAt',
} as const;

/** SQS limits that every adapter enforces alike, so code that runs locally runs on AWS. */
export const QueueLimits = {
  maxBatch: 10,
  maxWaitSeconds: 20,
  maxVisibilitySeconds: 43_200,
  maxDelaySeconds: 900,
  /** Counted as SQS counts it: the body plus each attribute's name, type (`String`) and value. */
  maxBodyBytes: 1_048_576,
  maxAttributes: 10,
} as const;
