import type { JsonObject } from '@spotjobs/core';
import type { StackInfo } from '../aws-ports/cluster-stacks.ts';
import { inputKeyProblem } from '../staging/s3-location.ts';
import type { ActionContext, AdmissionSteps, Decision, KeyVerdict } from '../triggers/admission-types.ts';
import { isObjectCreated, type S3ObjectEvent } from '../triggers/s3-event.ts';
import { type ClusterAction, type ClusterRequestKey, parseClusterKey } from './cluster-key.ts';
import { finishClusterRequest } from './cluster-outcome.ts';
import type { ClusterPorts, ClusterSettings } from './cluster-settings.ts';

/** A cluster request admitted from its key (its names are checked in `decide`). */
export interface ClusterRequest {
  readonly record: S3ObjectEvent;
  readonly key: ClusterRequestKey;
}

/**
 * The key-level check both cluster handlers share (pure):
 * - not an object creation, or not `<home>/<...>/<file>.cf-<action>` → ignored (answers
 *   like `.cf-created` end up here, so they never trigger anything);
 * - another bucket, or a key with `..`, an empty segment, a control character or a
 *   percent-encoded slash, backslash or dot segment → rejected (no answer is written:
 *   such a key does not safely name a place to answer in);
 * - else admitted: every later refusal is answered beside the request, in the user's folder.
 *
 * @example
 * ```ts
 * validateClusterRecord(settings, record, 'create'); // { kind: 'admit', request: { record, key } }
 * ```
 */
export function validateClusterRecord(
  settings: ClusterSettings,
  record: S3ObjectEvent,
  action: ClusterAction,
): KeyVerdict<ClusterRequest> {
  if (!isObjectCreated(record))
    return { kind: 'ignore', reason: `${record.eventName} is not an object creation` };
  if (!record.key.startsWith(settings.homePrefix) || !record.key.endsWith(`.cf-${action}`))
    return { kind: 'ignore', reason: `not a .cf-${action} request under ${settings.homePrefix}` };
  if (record.bucket !== settings.bucket)
    return { kind: 'reject', reason: `bucket ${record.bucket} is not the cluster request bucket` };
  const problem = inputKeyProblem(record.key);
  if (problem) return { kind: 'reject', reason: problem };
  const key = parseClusterKey(record.key, settings.homePrefix, action);
  if (!key) return { kind: 'reject', reason: 'the request is not inside a user folder' };
  return { kind: 'admit', request: { record, key } };
}

/**
 * Who owns a stack by its tags: `spotjobs:owner`, else af-user's `project` tag. Users never
 * call CloudFormation, so they cannot set these; only this service (or an admin) does.
 */
export function stackOwner(stack: StackInfo): string | undefined {
  return stack.tags['spotjobs:owner'] ?? stack.tags.project;
}

/** The tags every cluster stack gets: af-user's `project=<uid>`, and the owner and name. */
export function clusterStackTags(uid: string, name: string): Record<string, string> {
  return { project: uid, 'spotjobs:owner': uid, 'spotjobs:cluster': name };
}

/**
 * The admission steps of the `.cf-<action>` handler: the key check and the refusal both
 * cluster handlers share, around the action's own `decide` and `act`.
 *
 * @example
 * ```ts
 * clusterAdmissionSteps('delete', settings, ports, { decide: decideDelete, act: deleteCluster });
 * ```
 */
export function clusterAdmissionSteps<Plan>(
  action: ClusterAction,
  settings: ClusterSettings,
  ports: ClusterPorts,
  steps: {
    decide(request: ClusterRequest, ctx: ActionContext): Promise<Decision<Plan>>;
    act(plan: Plan, ctx: ActionContext): Promise<JsonObject>;
  },
): AdmissionSteps<ClusterRequest, Plan> {
  return {
    name: `cluster-${action}`,
    validate: (record) => validateClusterRecord(settings, record, action),
    decide: (request, ctx) => steps.decide(request, ctx),
    act: (plan, ctx) => steps.act(plan, ctx),
    refuse: (request, reason, ctx) => refuseClusterRequest(ports, request, reason, ctx),
  };
}

/** A refusal, answered in `.cf-failed` beside the request and then notified. */
export function refuseClusterRequest(
  ports: ClusterPorts,
  request: ClusterRequest,
  reason: string,
  ctx: ActionContext,
): Promise<JsonObject> {
  return finishClusterRequest(ports, request.key, { kind: 'failed', stage: 'refused', reason }, ctx);
}

/** A CloudFormation idempotency token per request object version and action. */
export function stackRequestToken(action: ClusterAction, objectId: string): string {
  return `spotjobs-${action}-${objectId.slice(0, 48)}`;
}

const MINUTE_MS = 60_000;
export const minutes = (n: number): number => n * MINUTE_MS;
