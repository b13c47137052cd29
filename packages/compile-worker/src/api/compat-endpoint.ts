import type { BuildRecord } from '../build/build-record.ts';
import { BuildNotReadyError, MethodNotAllowedError, UnauthorizedError } from '../errors.ts';
import type { ApiContext } from './api-context.ts';
import { requesterOf } from './api-context.ts';
import { type ApiRequest, type ApiResponse, jsonResponse } from './api-request.ts';
import type { Authentication } from './auth.ts';
import { parseCompatQuery } from './compat-query.ts';

/**
 * **(compat)** `GET /LATEST/package?package=<cat/pkg>&version=<ver>&useflag=<USE>`: answers 200
 * with exactly `{"status":"WAIT"}`, `{"status":"SUCCESS","linkS3":"<presigned url>"}` or
 * `{"status":"FAILED","errorMessage":"<text>"}` (this key order, no other field).
 *
 * A request for a build that does not exist yet enqueues it, and so needs credentials (API key or
 * IAM); reading an existing build's state needs none (unless open reads are off), because the
 * original client has no way to send any. A failed build past its retry time is retried by an
 * authenticated request; an anonymous one sees FAILED.
 */
export async function handleCompatPackage(
  req: ApiRequest,
  ctx: ApiContext,
  auth: Authentication,
): Promise<ApiResponse> {
  if (req.method !== 'GET') throw new MethodNotAllowedError(['GET']);
  if (auth.status === 'rejected') throw new UnauthorizedError('the API key is not valid');
  if (auth.status === 'anonymous' && !ctx.openReads) throw new UnauthorizedError('credentials are required');
  const { spec, droppedKeywords } = parseCompatQuery(req.query);
  if (droppedKeywords.length > 0) ctx.logger.debug({ droppedKeywords }, 'compat: keywords dropped from USE');
  const admission = await ctx.builds.admit(
    spec,
    { mayEnqueue: auth.status === 'authenticated', requestedBy: requesterOf(auth) },
    req.signal,
  );
  if (admission.outcome === 'unknown') {
    throw new UnauthorizedError(
      'requesting a new build needs an API key (x-api-key or Authorization: Bearer) or IAM authorization',
    );
  }
  return jsonResponse(200, await compatStatus(admission.build, ctx, req.signal));
}

async function compatStatus(build: BuildRecord, ctx: ApiContext, signal: AbortSignal): Promise<object> {
  switch (build.state) {
    case 'ready': {
      if (!build.artifact)
        throw new BuildNotReadyError(`build ${build.id} is ready without an artifact`, build.state);
      const url = await ctx.blobs.presign(
        build.artifact.key,
        { method: 'GET', expiresInSeconds: ctx.presignSeconds },
        signal,
      );
      return { status: 'SUCCESS', linkS3: url };
    }
    case 'failed':
      return { status: 'FAILED', errorMessage: build.error?.message ?? 'build failed' };
    default:
      return { status: 'WAIT' };
  }
}
