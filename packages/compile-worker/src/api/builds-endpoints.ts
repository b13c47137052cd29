import { BUILD_ID_PATTERN } from '../build/build-identity.ts';
import type { BuildRecord } from '../build/build-record.ts';
import { BuildNotFoundError, BuildNotReadyError, InvalidRequestError, UnauthorizedError } from '../errors.ts';
import { type ApiContext, requesterOf } from './api-context.ts';
import { type ApiRequest, type ApiResponse, jsonResponse } from './api-request.ts';
import type { Authentication } from './auth.ts';
import { parseBuildSubmission } from './build-submission.ts';
import { toBuildView } from './build-view.ts';

/** Path prefix of the clean API. */
export const CLEAN_API_BASE = '/v1';

/**
 * `POST /v1/builds`: submits a build (authenticated only). 201 with the build when this request
 * created it (or re-admitted a failed one), 200 when it existed; `Location` names it.
 */
export async function submitBuild(
  req: ApiRequest,
  ctx: ApiContext,
  auth: Authentication,
): Promise<ApiResponse> {
  if (auth.status !== 'authenticated') {
    throw new UnauthorizedError(
      auth.status === 'rejected'
        ? 'the API key is not valid'
        : 'submitting a build needs an API key (x-api-key or Authorization: Bearer) or IAM authorization',
    );
  }
  const spec = parseBuildSubmission(req.body);
  const admission = await ctx.builds.admit(
    spec,
    { mayEnqueue: true, requestedBy: requesterOf(auth) },
    req.signal,
  );
  if (admission.outcome === 'unknown') throw new Error('an authenticated admission answered unknown');
  const view = toBuildView(admission.build, CLEAN_API_BASE);
  const created = admission.outcome === 'created' || admission.outcome === 'requeued';
  return jsonResponse(created ? 201 : 200, view, { location: `${CLEAN_API_BASE}/builds/${admission.id}` });
}

/** `GET /v1/builds/<id>`: the build's state. */
export async function getBuild(
  req: ApiRequest,
  ctx: ApiContext,
  auth: Authentication,
  id: string,
): Promise<ApiResponse> {
  const build = await readableBuild(req, ctx, auth, id);
  return jsonResponse(200, toBuildView(build, CLEAN_API_BASE));
}

/** `GET /v1/builds/<id>/artifact`: a presigned download URL with the sha256 and size; 409 until ready. */
export async function getArtifactLink(
  req: ApiRequest,
  ctx: ApiContext,
  auth: Authentication,
  id: string,
): Promise<ApiResponse> {
  const build = await readableBuild(req, ctx, auth, id);
  if (build.state !== 'ready' || !build.artifact)
    throw new BuildNotReadyError(
      `build ${id} is ${build.state}; the artifact exists once it is ready`,
      build.state,
    );
  const link = await presign(ctx, build.artifact.key, req.signal);
  return jsonResponse(200, { ...link, sha256: build.artifact.sha256, size: build.artifact.size });
}

/** `GET /v1/builds/<id>/log`: a presigned URL of the latest attempt's log; 409 before any log exists. */
export async function getLogLink(
  req: ApiRequest,
  ctx: ApiContext,
  auth: Authentication,
  id: string,
): Promise<ApiResponse> {
  const build = await readableBuild(req, ctx, auth, id);
  if (!build.log)
    throw new BuildNotReadyError(`build ${id} is ${build.state} and has no log yet`, build.state);
  return jsonResponse(200, await presign(ctx, build.log.key, req.signal));
}

async function readableBuild(
  req: ApiRequest,
  ctx: ApiContext,
  auth: Authentication,
  id: string,
): Promise<BuildRecord> {
  if (auth.status === 'rejected') throw new UnauthorizedError('the API key is not valid');
  if (auth.status === 'anonymous' && !ctx.openReads) throw new UnauthorizedError('credentials are required');
  if (!BUILD_ID_PATTERN.test(id))
    throw new InvalidRequestError([
      { field: 'id', reason: 'must be a build id (64 lower-case hex characters)' },
    ]);
  const build = await ctx.builds.get(id, req.signal);
  if (!build) throw new BuildNotFoundError(`no build ${id}`);
  return build;
}

async function presign(
  ctx: ApiContext,
  key: string,
  signal: AbortSignal,
): Promise<{ url: string; expiresAt: string }> {
  const expiresAt = new Date(ctx.clock.now() + ctx.presignSeconds * 1000).toISOString();
  const url = await ctx.blobs.presign(key, { method: 'GET', expiresInSeconds: ctx.presignSeconds }, signal);
  return { url, expiresAt };
}
