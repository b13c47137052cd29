import { randomUUID } from 'node:crypto';
import { composeOnce, invocationSignal } from '@spotjobs/core';
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
  const resolve = composeOnce(handler);
  return async (event, context) => {
    const resolved = await resolve();
    const signal = invocationSignal(context, DEADLINE_MARGIN_MS);
    return resolved.handle(event, { owner: context?.awsRequestId ?? randomUUID(), signal });
  };
}
