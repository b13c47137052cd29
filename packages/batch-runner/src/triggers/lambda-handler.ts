import { randomUUID } from 'node:crypto';
import type { AdmissionReport, Invocation } from './admission-types.ts';

/** The part of the Lambda context the trigger handlers use. */
export interface LambdaContextLike {
  readonly awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
}

/** Anything that handles an S3 event within one invocation: an `Admission`. */
export interface S3EventHandler {
  handle(event: unknown, invocation: Invocation): Promise<AdmissionReport>;
}

/** A Lambda function handler for S3 event notifications. */
export type S3LambdaHandler = (event: unknown, context?: LambdaContextLike) => Promise<AdmissionReport>;

/**
 * Time kept back from the invocation's deadline: long waits stop there, release their claim
 * and ask for a retry instead of being killed mid-write.
 */
const DEADLINE_MARGIN_MS = 3_000;
const DEFAULT_REMAINING_MS = 30_000;

/**
 * A Lambda handler for S3 event notifications around `handler`, which may be a factory: the
 * first invocation composes it (configuration, clients) and later ones reuse it; a factory
 * that fails is tried again on the next invocation. Each invocation's signal aborts
 * `DEADLINE_MARGIN_MS` before Lambda's deadline, and the Lambda request id owns its claims
 * (Lambda keeps the id across retries of one event, so a retry resumes its own claim at once).
 *
 * @example
 * ```ts
 * export const handler = createS3LambdaHandler(() => composeJobTrigger(loadTriggerConfig()));
 * ```
 */
export function createS3LambdaHandler(
  handler: S3EventHandler | (() => S3EventHandler | Promise<S3EventHandler>),
): S3LambdaHandler {
  let composed: Promise<S3EventHandler> | undefined;
  const resolve = (): Promise<S3EventHandler> => {
    if (typeof handler !== 'function') return Promise.resolve(handler);
    composed ??= Promise.resolve()
      .then(handler)
      .catch((err: unknown) => {
        composed = undefined;
        throw err;
      });
    return composed;
  };
  return async (event, context) => {
    const resolved = await resolve();
    const remaining = context?.getRemainingTimeInMillis?.() ?? DEFAULT_REMAINING_MS;
    const signal = AbortSignal.timeout(Math.max(1, remaining - DEADLINE_MARGIN_MS));
    return resolved.handle(event, { owner: context?.awsRequestId ?? randomUUID(), signal });
  };
}
