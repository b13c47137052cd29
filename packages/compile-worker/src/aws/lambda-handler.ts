import { composeOnce, invocationSignal } from '@spotjobs/core';
import type { CompileApi } from '../api/compile-api.ts';
import {
  type ApiGatewayProxyEvent,
  type ApiGatewayProxyResult,
  eventToApiRequest,
  toProxyResult,
} from './api-gateway-event.ts';

/** The part of the Lambda context the handler uses. */
export interface LambdaContextLike {
  getRemainingTimeInMillis?(): number;
}

/** Time kept back from the Lambda's deadline to send the answer after aborting the work. */
const DEADLINE_MARGIN_MS = 500;

/**
 * A Lambda handler for API Gateway REST (v1) proxy events that serves `api`, the same
 * `CompileApi` the local HTTP server serves. `api` may be a factory: the first invocation
 * composes the backend and later ones reuse it (a factory that fails is tried again on the next
 * invocation, and that invocation fails). Each request's signal aborts shortly before the
 * invocation's deadline, so a slow backend call ends in a 503, not a Lambda timeout.
 *
 * @example
 * ```ts
 * export const handler = createLambdaHandler(() => composeApiFromConfig());
 * ```
 */
export function createLambdaHandler(
  api: CompileApi | (() => CompileApi | Promise<CompileApi>),
): (event: ApiGatewayProxyEvent, context?: LambdaContextLike) => Promise<ApiGatewayProxyResult> {
  const resolve = composeOnce(api);
  return async (event, context) => {
    const resolved = await resolve();
    const signal = invocationSignal(context, DEADLINE_MARGIN_MS);
    return toProxyResult(await resolved.handle(eventToApiRequest(event, signal)));
  };
}
