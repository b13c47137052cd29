import {
  type Claim,
  type ClaimStore,
  isAbortError,
  type JsonObject,
  LeaseLostError,
  type Logger,
  silentLogger,
  ValidationError,
} from '@spotjobs/core';
import type {
  ActionContext,
  AdmissionReport,
  AdmissionSteps,
  Invocation,
  RecordResult,
} from './admission-types.ts';
import { objectVersionId, objectVersionOf } from './object-version.ts';
import { parseS3Event, type S3ObjectEvent } from './s3-event.ts';
import { ObjectBusyError, RetryRecordsError } from './trigger-errors.ts';

export interface AdmissionOptions {
  /** Where object versions are claimed and their outcomes kept (a `ClaimStore` on the trigger Table). */
  readonly claims: ClaimStore;
  readonly logger?: Logger;
  /**
   * How long a claim lasts without `keepAlive`, ms (default 60 000). Keep it below Lambda's
   * first retry delay (one minute), so a retry after a crash finds the claim free.
   */
  readonly claimTtlMs?: number;
}

const DEFAULT_CLAIM_TTL_MS = 60_000;
/** Time a claim release gets when the invocation's own signal has already aborted. */
const RELEASE_TIMEOUT_MS = 5_000;

/**
 * Runs one trigger's steps over S3 events: validate → claim the object version → decide →
 * act (or refuse) → store the outcome. The same core serves every handler (job submission,
 * cluster create, cluster delete); only the steps differ.
 *
 * Idempotency: each object version (bucket, key, version id or sequencer) is claimed in the
 * Table with a conditional write before anything is read or done, and its outcome is stored
 * with the claim. A redelivered event finds the outcome and does nothing (`duplicate`); a
 * concurrent one finds the claim held and asks Lambda to retry later; a retry after a crash
 * takes the claim over with `resumed` set, so steps look before they act again.
 *
 * ```
 *  event ─ parse ─ validate ─┬ ignore / reject ────────────────────────────── (logged)
 *                            └ admit ─ claim ─┬ completed ─────────────────── duplicate
 *                                             ├ held elsewhere ────────────── retry
 *                                             └ taken ─ decide ─┬ refuse ─ refuse() ─┐
 *                                                               ├ skip ──────────────┤
 *                                                               └ proceed ─ act() ───┴ complete
 * ```
 *
 * @example
 * ```ts
 * const admission = new Admission(jobSubmissionSteps(routes, batchJobs), { claims, logger });
 * const report = await admission.handle(event, { owner: context.awsRequestId, signal });
 * ```
 */
export class Admission<Request, Plan> {
  readonly #steps: AdmissionSteps<Request, Plan>;
  readonly #claims: ClaimStore;
  readonly #logger: Logger;
  readonly #ttlMs: number;

  constructor(steps: AdmissionSteps<Request, Plan>, options: AdmissionOptions) {
    this.#steps = steps;
    this.#claims = options.claims;
    this.#logger = (options.logger ?? silentLogger).child({ handler: steps.name });
    this.#ttlMs = options.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS;
    if (!Number.isSafeInteger(this.#ttlMs) || this.#ttlMs < 1000)
      throw new ValidationError('invalid admission options', [
        'claimTtlMs must be an integer of at least 1000',
      ]);
  }

  /** The handler's name (`batch-job`, `cluster-create`, ...). */
  get name(): string {
    return this.#steps.name;
  }

  /**
   * Handles every record of `event` in order and reports each one. Throws `RetryRecordsError`
   * (carrying the report) when a record must be delivered again; a record refused or rejected
   * for good never causes a retry, since a retry could not change its answer.
   */
  async handle(event: unknown, invocation: Invocation): Promise<AdmissionReport> {
    const { records, problems } = parseS3Event(event);
    const results: RecordResult[] = problems.map((p) => {
      this.#logger.warn({ index: p.index, reason: p.problem }, 'S3 event record rejected');
      return { index: p.index, outcome: 'rejected', reason: p.problem };
    });
    for (const record of records) results.push(await this.#handleRecord(record, invocation));
    results.sort((a, b) => a.index - b.index);
    const report: AdmissionReport = { handler: this.#steps.name, records: results };
    if (results.some((r) => r.outcome === 'retry')) throw new RetryRecordsError(report);
    return report;
  }

  async #handleRecord(record: S3ObjectEvent, invocation: Invocation): Promise<RecordResult> {
    const where = { index: record.index, bucket: record.bucket, key: record.key };
    // Who wrote the object, for the audit trail (an IAM unique id, not a user name).
    const logger = this.#logger.child({ ...where, principalId: record.principalId });
    const verdict = this.#steps.validate(record);
    if (verdict.kind === 'ignore') {
      logger.debug({ reason: verdict.reason }, 'record ignored');
      return { ...where, outcome: 'ignored', reason: verdict.reason };
    }
    if (verdict.kind === 'reject') {
      logger.warn({ reason: verdict.reason, rawKey: record.rawKey }, 'record rejected');
      return { ...where, outcome: 'rejected', reason: verdict.reason };
    }
    const version = objectVersionOf(record);
    if (!version) {
      const reason =
        'the record has neither a version id nor a sequencer, so redeliveries cannot be recognised';
      logger.warn({ reason }, 'record rejected');
      return { ...where, outcome: 'rejected', reason };
    }
    const objectId = objectVersionId(version);
    const claimKey = `${this.#steps.name}:${objectId}`;

    let claim: Claim | undefined;
    try {
      claim = await this.#claims.claim(claimKey, invocation.owner, { ttlMs: this.#ttlMs }, invocation.signal);
      if (!claim) {
        const state = await this.#claims.get(claimKey, invocation.signal);
        if (state?.completed) {
          logger.info({ objectId }, 'duplicate delivery: already handled');
          return { ...where, outcome: 'duplicate', ...(state.result ? { result: state.result } : {}) };
        }
        throw new ObjectBusyError(claimKey);
      }
      let held: Claim = claim;
      const ctx: ActionContext = {
        record,
        objectId,
        signal: invocation.signal,
        logger: logger.child({ objectId }),
        resumed: claim.token > 1,
        keepAlive: async () => {
          held = await this.#claims.renew(held, {}, invocation.signal);
        },
      };
      const request = verdict.request;
      const decision = await this.#steps.decide(request, ctx);
      let outcome: RecordResult;
      if (decision.kind === 'proceed') {
        const result = await this.#steps.act(decision.plan, ctx);
        outcome = { ...where, outcome: 'done', result };
      } else if (decision.kind === 'refuse') {
        ctx.logger.warn({ reason: decision.reason }, 'request refused');
        const result = await this.#steps.refuse(request, decision.reason, ctx);
        outcome = { ...where, outcome: 'refused', reason: decision.reason, result };
      } else {
        ctx.logger.info({ reason: decision.reason }, 'nothing to do');
        outcome = { ...where, outcome: 'skipped', reason: decision.reason };
      }
      await this.#claims.complete(held, storedOutcome(outcome), invocation.signal);
      return outcome;
    } catch (err) {
      if (err instanceof LeaseLostError) {
        logger.warn({ err }, 'another attempt took this object over; it finishes the work');
        return { ...where, outcome: 'superseded', reason: err.message };
      }
      const reason = isAbortError(err) ? 'the invocation ran out of time' : errorText(err);
      logger.error({ err, reason }, 'record failed for now; the event will be retried');
      if (claim) await this.#release(claim, logger);
      return { ...where, outcome: 'retry', reason };
    }
  }

  async #release(claim: Claim, logger: Logger): Promise<void> {
    try {
      await this.#claims.release(claim, AbortSignal.timeout(RELEASE_TIMEOUT_MS));
    } catch (err) {
      // The claim then expires on its own after its TTL.
      logger.warn({ err }, 'could not release the claim');
    }
  }
}

function storedOutcome(result: RecordResult): JsonObject {
  return {
    ...(result.result ?? {}),
    outcome: result.outcome,
    ...(result.reason !== undefined ? { reason: result.reason } : {}),
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
