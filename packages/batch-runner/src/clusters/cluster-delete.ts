import type { JsonObject } from '@spotjobs/core';
import type { StackInfo } from '../aws-ports/cluster-stacks.ts';
import type { ActionContext, AdmissionSteps, Decision } from '../triggers/admission-types.ts';
import { type ClusterRequestKey, clusterKeyProblems, stackNameFor } from './cluster-key.ts';
import { finishClusterRequest } from './cluster-outcome.ts';
import {
  type ClusterRequest,
  clusterAdmissionSteps,
  minutes,
  stackOwner,
  stackRequestToken,
} from './cluster-request.ts';
import type { ClusterPorts, ClusterSettings } from './cluster-settings.ts';
import { stackFailure, stackPhase, waitForStack } from './stack-wait.ts';

/** A checked `.cf-delete` request: the requester's stack to delete. */
export interface DeletePlan {
  readonly request: ClusterRequestKey;
  readonly stack: StackInfo;
}

/**
 * The `.cf-delete` handler's steps.
 *
 * decide: names checked; the stack is looked up as `<prefix>--<uid>--<NAME>` (and as plain
 * `<NAME>` with `legacyStackNames`, for stacks af-user made); it must exist and its tags must
 * name the requester as owner, else the request is refused in `.cf-failed` (af-user deleted
 * whatever stack was named, whoever asked). The body is never read, and the customizer gate is
 * not applied: a user taken off the allow-list can still remove what they run.
 *
 * act: DeleteStack with a ClientRequestToken, then a bounded wait: deleted → `.cf-deleted`;
 * DELETE_FAILED → `.cf-failed` with the cause from the stack events; overdue → `.cf-failed`.
 * The notice follows.
 *
 * @example
 * ```ts
 * const admission = new Admission(clusterDeleteSteps(settings, ports), { claims, clock });
 * ```
 */
export function clusterDeleteSteps(
  settings: ClusterSettings,
  ports: ClusterPorts,
): AdmissionSteps<ClusterRequest, DeletePlan> {
  return clusterAdmissionSteps('delete', settings, ports, {
    decide: (request, ctx) => decideDelete(settings, ports, request, ctx),
    act: (plan, ctx) => deleteCluster(settings, ports, plan, ctx),
  });
}

async function decideDelete(
  settings: ClusterSettings,
  ports: ClusterPorts,
  { key }: ClusterRequest,
  ctx: ActionContext,
): Promise<Decision<DeletePlan>> {
  const problems = clusterKeyProblems(key, settings.stackPrefix);
  if (problems.length > 0) return { kind: 'refuse', reason: problems.join('; ') };
  const names = [stackNameFor(settings.stackPrefix, key.uid, key.name)];
  if (settings.legacyStackNames) names.push(key.name);
  for (const name of names) {
    const stack = await ports.stacks.describe(name, ctx.signal);
    if (!stack || stackPhase('delete', stack.status) === 'deleted') continue;
    if (stackOwner(stack) !== key.uid)
      return {
        kind: 'refuse',
        reason: `cluster ${key.name} is not yours: its stack is tagged for another user`,
      };
    return { kind: 'proceed', plan: { request: key, stack } };
  }
  return { kind: 'refuse', reason: `you have no cluster named ${key.name}` };
}

async function deleteCluster(
  settings: ClusterSettings,
  ports: ClusterPorts,
  { request, stack }: DeletePlan,
  ctx: ActionContext,
): Promise<JsonObject> {
  const { stackId, stackName } = stack;
  await ports.stacks.delete(stackId, stackRequestToken('delete', ctx.objectId), ctx.signal);
  const waitStarted = ports.clock.now();
  const result = await waitForStack(ports.stacks, stackId, {
    goal: 'delete',
    clock: ports.clock,
    pollIntervalMs: settings.pollIntervalMs,
    overdueAt: (s) => (s.deletedAt?.getTime() ?? waitStarted) + minutes(settings.deleteTimeoutMinutes),
    signal: ctx.signal,
    keepAlive: ctx.keepAlive,
  });
  if (result.phase === 'deleted')
    return finishClusterRequest(ports, request, { kind: 'deleted', stackName, stackId }, ctx);
  const fail = (reason: string) =>
    finishClusterRequest(
      ports,
      request,
      { kind: 'failed', stage: 'delete', reason, stackName, stackId },
      ctx,
    );
  if (result.phase === 'overdue')
    return fail(
      `still ${result.stack.status} after ${settings.deleteTimeoutMinutes} minutes; ask the administrator`,
    );
  return fail(await stackFailure(ports.stacks, stackId, 'delete', result.stack, 'DELETE_FAILED', ctx.signal));
}
