import type { JsonObject } from '@spotjobs/core';
import { StackRejectedError, type StackSpec } from '../aws-ports/cluster-stacks.ts';
import type { ActionContext, AdmissionSteps, Decision } from '../triggers/admission-types.ts';
import { type ClusterRequestKey, clusterKeyProblems, stackNameFor } from './cluster-key.ts';
import { finishClusterRequest } from './cluster-outcome.ts';
import { resolveParameters } from './cluster-parameters.ts';
import {
  type ClusterRequest,
  clusterAdmissionSteps,
  clusterStackTags,
  minutes,
  stackOwner,
  stackRequestToken,
} from './cluster-request.ts';
import type { ClusterPorts, ClusterSettings } from './cluster-settings.ts';
import { readRequestBody } from './request-body.ts';
import { stackFailure, waitForStack } from './stack-wait.ts';

/** A checked `.cf-create` request: the stack to create for it. */
export interface CreatePlan {
  readonly request: ClusterRequestKey;
  readonly spec: StackSpec;
}

/** CloudFormation's own timeout fails the creation; the wait allows this much more to see it. */
const OVERDUE_GRACE_MINUTES = 5;

/**
 * The `.cf-create` handler's steps.
 *
 * decide (reads, no side effects), each refusal answered in `.cf-failed`:
 * 1. names: user id, cluster name, request directly in the user's folder, stack name length;
 * 2. size: the event's size against `maxRequestBytes` (refused unread);
 * 3. the customizer gate: `<customizer prefix><uid>/configure.d/user.sh` must exist;
 * 4. the body: UTF-8 JSON object (an empty file means "all defaults"), capped while read;
 * 5. parameters: allow-list with types and bounds; fixed ones (login name, profile) refused.
 *
 * act: CreateStack `<prefix>--<uid>--<NAME>` with tags (`project`, `spotjobs:owner`,
 * `spotjobs:cluster`), a ClientRequestToken per request version, CloudFormation's
 * `TimeoutInMinutes` and `OnFailure`; a stack already under that name is used only if its tags
 * name this user. Then a bounded wait: ready → `.cf-created` with the login address; failed →
 * `.cf-failed` with the cause from the stack events; overdue → `.cf-failed`. The notice follows.
 *
 * @example
 * ```ts
 * const admission = new Admission(clusterCreateSteps(settings, ports), { claims, clock });
 * ```
 */
export function clusterCreateSteps(
  settings: ClusterSettings,
  ports: ClusterPorts,
): AdmissionSteps<ClusterRequest, CreatePlan> {
  return clusterAdmissionSteps('create', settings, ports, {
    decide: (request, ctx) => decideCreate(settings, ports, request, ctx),
    act: (plan, ctx) => createCluster(settings, ports, plan, ctx),
  });
}

async function decideCreate(
  settings: ClusterSettings,
  ports: ClusterPorts,
  { record, key }: ClusterRequest,
  ctx: ActionContext,
): Promise<Decision<CreatePlan>> {
  const problems = clusterKeyProblems(key, settings.stackPrefix);
  if (problems.length > 0) return { kind: 'refuse', reason: problems.join('; ') };
  if (record.size !== undefined && record.size > settings.maxRequestBytes)
    return { kind: 'refuse', reason: tooLarge(record.size, settings.maxRequestBytes) };

  const gate = `${settings.customizerPrefix}${key.uid}/configure.d/user.sh`;
  if (!(await ports.customizer.head(gate, ctx.signal)))
    return {
      kind: 'refuse',
      reason: `user ${key.uid} is not enabled for clusters (no customizer profile ${gate})`,
    };

  const body = await readRequestBody(ports.requests, key.key, settings.maxRequestBytes, ctx.signal);
  if (body.kind === 'missing')
    return { kind: 'skip', reason: 'the request object is gone (answered or withdrawn)' };
  if (body.kind === 'too-large') return { kind: 'refuse', reason: tooLarge(undefined, body.limit) };
  if (body.kind === 'not-utf8') return { kind: 'refuse', reason: 'the request is not UTF-8 text' };
  const text = body.text.replace(/^\uFEFF/, '');
  let overrides: unknown = {};
  if (text.trim() !== '') {
    try {
      overrides = JSON.parse(text);
    } catch (err) {
      return { kind: 'refuse', reason: `the request is not JSON: ${(err as Error).message}` };
    }
  }
  const resolved = resolveParameters(settings.policy, overrides, key.uid);
  if ('problems' in resolved) return { kind: 'refuse', reason: resolved.problems.join('; ') };

  return {
    kind: 'proceed',
    plan: {
      request: key,
      spec: {
        stackName: stackNameFor(settings.stackPrefix, key.uid, key.name),
        templateUrl: settings.templateUrl,
        parameters: resolved.parameters,
        capabilities: settings.capabilities,
        tags: clusterStackTags(key.uid, key.name),
        clientRequestToken: stackRequestToken('create', ctx.objectId),
        timeoutMinutes: settings.createTimeoutMinutes,
        onFailure: settings.onFailure,
        ...(settings.roleArn ? { roleArn: settings.roleArn } : {}),
      },
    },
  };
}

async function createCluster(
  settings: ClusterSettings,
  ports: ClusterPorts,
  { request, spec }: CreatePlan,
  ctx: ActionContext,
): Promise<JsonObject> {
  const { stackName } = spec;
  const fail = (reason: string, stackId?: string) =>
    finishClusterRequest(
      ports,
      request,
      { kind: 'failed', stage: 'create', reason, stackName, ...(stackId ? { stackId } : {}) },
      ctx,
    );

  let stackId: string;
  try {
    const created = await ports.stacks.create(spec, ctx.signal);
    stackId = created.stackId;
    if (!created.created) {
      const existing = await ports.stacks.describe(stackId, ctx.signal);
      if (!existing || stackOwner(existing) !== request.uid)
        return fail(`a stack named ${stackName} already exists and is not yours`);
      ctx.logger.info({ stackId, status: existing.status }, 'the stack exists already; following it');
    }
  } catch (err) {
    if (err instanceof StackRejectedError) return fail(err.reason);
    throw err;
  }

  const result = await waitForStack(ports.stacks, stackId, {
    goal: 'create',
    clock: ports.clock,
    pollIntervalMs: settings.pollIntervalMs,
    overdueAt: (stack) =>
      stack.createdAt.getTime() + minutes(settings.createTimeoutMinutes + OVERDUE_GRACE_MINUTES),
    signal: ctx.signal,
    keepAlive: ctx.keepAlive,
  });
  if (result.phase === 'ready') {
    const address = result.stack?.outputs[settings.loginOutput];
    if (!address)
      return fail(
        `the stack is ${result.stack?.status} but has no output ${settings.loginOutput}; it was kept, delete it with ${request.name}.cf-delete`,
        stackId,
      );
    return finishClusterRequest(ports, request, { kind: 'created', stackName, stackId, address }, ctx);
  }
  if (result.phase === 'overdue')
    return fail(
      `still ${result.stack.status} ${settings.createTimeoutMinutes + OVERDUE_GRACE_MINUTES} minutes after it started; ask the administrator`,
      stackId,
    );
  return fail(await stackFailure(ports.stacks, stackId, 'create', result.stack, 'gone', ctx.signal), stackId);
}

function tooLarge(size: number | undefined, limit: number): string {
  return `the request is ${size === undefined ? 'larger than' : `${size} bytes, over`} the limit of ${limit} bytes`;
}
