import { AbortedError, BackendError, isAbortError, type Logger } from '@spotjobs/core';
import {
  CompileRequestError,
  InvalidRequestError,
  MethodNotAllowedError,
  UnauthorizedError,
} from '../errors.ts';
import { type ApiResponse, jsonResponse } from './api-request.ts';

/** How an error is told to a client, in either API's shape. */
interface ErrorAnswer {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly field?: string;
  readonly headers: Record<string, string>;
}

/**
 * Maps an error to its answer: request errors keep their status and code; an unavailable
 * backend or a request out of time is 503 (retry later); anything else is a 500 whose details
 * go to the log, not to the client.
 */
function answerFor(err: unknown, logger: Logger): ErrorAnswer {
  if (err instanceof CompileRequestError) {
    const headers: Record<string, string> = {};
    if (err instanceof MethodNotAllowedError) headers.allow = err.allow.join(', ');
    if (err instanceof UnauthorizedError) headers['www-authenticate'] = 'Bearer realm="spotjobs-compile"';
    const field = err instanceof InvalidRequestError ? err.field : undefined;
    return { status: err.status, code: err.code, message: err.message, headers, ...(field ? { field } : {}) };
  }
  if (err instanceof BackendError || err instanceof AbortedError || isAbortError(err)) {
    logger.warn({ err }, 'request failed: backend unavailable');
    return {
      status: 503,
      code: 'UNAVAILABLE',
      message: 'the build service is unavailable; retry shortly',
      headers: { 'retry-after': '5' },
    };
  }
  logger.error({ err }, 'request failed');
  return { status: 500, code: 'INTERNAL', message: 'internal error', headers: {} };
}

/**
 * An error in the clean API's shape: `{"error":{"code","message","field"?}}`.
 *
 * @example
 * ```ts
 * errorResponse(new InvalidRequestError([{ field: 'atom', reason: 'is required' }]), logger);
 * // 400 {"error":{"code":"INVALID_REQUEST","message":"atom: is required","field":"atom"}}
 * ```
 */
export function errorResponse(err: unknown, logger: Logger): ApiResponse {
  const a = answerFor(err, logger);
  const error =
    a.field === undefined
      ? { code: a.code, message: a.message }
      : { code: a.code, message: a.message, field: a.field };
  return jsonResponse(a.status, { error }, a.headers);
}

/**
 * An error in the compat API's shape, `{"status":"FAILED","errorMessage":"<text>"}` with the
 * error's HTTP status: the original client reads `status` and raises `errorMessage` for
 * anything but WAIT or SUCCESS, so it shows the reason instead of crashing on a missing key.
 */
export function compatErrorResponse(err: unknown, logger: Logger): ApiResponse {
  const a = answerFor(err, logger);
  return jsonResponse(a.status, { status: 'FAILED', errorMessage: a.message }, a.headers);
}
