import type { JsonObject, Logger } from '@spotjobs/core';
import type { S3ObjectEvent } from './s3-event.ts';

/**
 * What `validate` says about a record, from the event alone (no I/O):
 * - `admit`: this handler's request, safe to address;
 * - `ignore`: not this handler's (another prefix or suffix, another event type);
 * - `reject`: meant for this handler but unsafe even to answer (a `..` segment, an encoded
 *   slash, a foreign bucket): logged, nothing written anywhere.
 */
export type KeyVerdict<Request> =
  | { readonly kind: 'admit'; readonly request: Request }
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'reject'; readonly reason: string };

/**
 * What `decide` says about an admitted request, after reading what it needs through ports
 * (no side effects yet):
 * - `proceed` with a plan for `act`;
 * - `refuse`: the request breaks a rule; `refuse` makes that visible (e.g. a `.cf-failed` file);
 * - `skip`: nothing is left to do (the request object is gone).
 */
export type Decision<Plan> =
  | { readonly kind: 'proceed'; readonly plan: Plan }
  | { readonly kind: 'refuse'; readonly reason: string }
  | { readonly kind: 'skip'; readonly reason: string };

/** What a step gets besides its input. */
export interface ActionContext {
  readonly record: S3ObjectEvent;
  /** 64 hex digits naming the object version: seed of job names and request tokens. */
  readonly objectId: string;
  /** Aborts shortly before the invocation's deadline. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /**
   * True when an earlier attempt held this object version's claim and let it go (crash,
   * timeout, error): it may have acted part-way, so look before acting again.
   */
  readonly resumed: boolean;
  /** Renews the claim on the object version; long steps call it between polls. Throws `LeaseLostError` once another attempt took over. */
  keepAlive(): Promise<void>;
}

/**
 * The three steps every trigger shares: `validate` (pure) → `decide` (reads) → `act` (side
 * effects), or `refuse` instead of `act`. `Admission` runs them with deduplication per object
 * version around `decide` and `act`, so a redelivered event does nothing new.
 */
export interface AdmissionSteps<Request, Plan> {
  /** Names the handler in logs and namespaces its claims: `batch-job`, `cluster-create`. */
  readonly name: string;
  validate(record: S3ObjectEvent): KeyVerdict<Request>;
  decide(request: Request, ctx: ActionContext): Promise<Decision<Plan>>;
  /** Does the work; what it answers is stored with the claim and given to redeliveries. */
  act(plan: Plan, ctx: ActionContext): Promise<JsonObject>;
  /** Makes a refusal visible to whoever asked; what it answers is stored like `act`'s. */
  refuse(request: Request, reason: string, ctx: ActionContext): Promise<JsonObject>;
}

/**
 * What happened to one record:
 * - `ignored` / `rejected`: see `KeyVerdict`; `refused` / `skipped`: see `Decision`;
 * - `done`: acted; `duplicate`: this object version was handled before (its result is given);
 * - `retry`: failed for now, the event must be delivered again;
 * - `superseded`: another attempt took the object over mid-way and finishes it.
 */
export type RecordOutcome =
  | 'ignored'
  | 'rejected'
  | 'refused'
  | 'skipped'
  | 'done'
  | 'duplicate'
  | 'retry'
  | 'superseded';

export interface RecordResult {
  readonly index: number;
  readonly outcome: RecordOutcome;
  readonly bucket?: string;
  readonly key?: string;
  readonly reason?: string;
  readonly result?: JsonObject;
}

/** What a handler did with one S3 event: one result per record, in order. */
export interface AdmissionReport {
  readonly handler: string;
  readonly records: RecordResult[];
}

/** One invocation: who is acting (the Lambda request id) and until when. */
export interface Invocation {
  /** Claim owner: the Lambda request id, which Lambda keeps across retries of one event. */
  readonly owner: string;
  readonly signal: AbortSignal;
}
