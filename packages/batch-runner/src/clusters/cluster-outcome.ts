import type { JsonObject } from '@spotjobs/core';
import type { ActionContext } from '../triggers/admission-types.ts';
import { type ClusterRequestKey, ClusterSuffix, isClusterUid } from './cluster-key.ts';
import type { ClusterPorts } from './cluster-settings.ts';

/** The final answer to one cluster request. */
export type ClusterAnswer =
  | {
      readonly kind: 'created';
      readonly stackName: string;
      readonly stackId: string;
      readonly address: string;
    }
  | { readonly kind: 'deleted'; readonly stackName: string; readonly stackId: string }
  | {
      readonly kind: 'failed';
      /** `refused`: the request broke a rule and nothing was done. */
      readonly stage: 'refused' | 'create' | 'delete';
      readonly reason: string;
      readonly stackName?: string;
      readonly stackId?: string;
    };

const answerSuffix = {
  created: ClusterSuffix.created,
  deleted: ClusterSuffix.deleted,
  failed: ClusterSuffix.failed,
};

/**
 * The answer file's body: the login address alone for `.cf-created` (af-user's format: no
 * newline, no JSON, so scripts that read the address keep working), the stack name for
 * `.cf-deleted`, one line saying what failed and why for `.cf-failed`.
 */
export function answerBody(request: ClusterRequestKey, answer: ClusterAnswer): string {
  if (answer.kind === 'created') return answer.address;
  if (answer.kind === 'deleted') return `${answer.stackName}\n`;
  const what =
    answer.stage === 'refused'
      ? `${request.action} request for ${request.name} refused`
      : `${answer.stage} of cluster ${request.name} failed`;
  return `${what}: ${answer.reason}\n`;
}

function notice(request: ClusterRequestKey, answer: ClusterAnswer) {
  const uid = isClusterUid(request.uid) ? request.uid : undefined;
  const outcome = answer.kind === 'failed' && answer.stage === 'refused' ? 'refused' : answer.kind;
  const verb = {
    created: 'created',
    deleted: 'deleted',
    refused: `${request.action} request refused`,
    failed: `${request.action} failed`,
  }[outcome];
  const lines = [
    `Cluster: ${request.name}`,
    `User: ${request.uid}`,
    `Request: ${request.key}`,
    `Outcome: ${verb}`,
    ...('stackName' in answer && answer.stackName ? [`Stack: ${answer.stackName}`] : []),
    ...(answer.kind === 'created' ? [`Login address: ${answer.address}`] : []),
    ...(answer.kind === 'failed' ? [`Reason: ${answer.reason}`] : []),
  ];
  return {
    outcome,
    uid,
    cluster: request.name,
    subject: `Cluster ${request.name} of ${request.uid}: ${verb}`,
    text: `${lines.join('\n')}\n`,
  } as const;
}

/**
 * Ends a cluster request, in this order: the answer file is written beside the request, the
 * request object is deleted, and only then is the notice sent. af-user mailed "started"
 * before creating anything; here a notice always reports an outcome that is already written.
 * A notice that cannot be sent is logged; it does not undo or fail the outcome.
 *
 * @example
 * ```ts
 * return finishClusterRequest(ports, request, { kind: 'failed', stage: 'create', reason }, ctx);
 * ```
 */
export async function finishClusterRequest(
  ports: ClusterPorts,
  request: ClusterRequestKey,
  answer: ClusterAnswer,
  ctx: ActionContext,
): Promise<JsonObject> {
  const answerKey = `${request.base}${answerSuffix[answer.kind]}`;
  const stack =
    'stackName' in answer && answer.stackName
      ? { 'stack-name': answer.stackName, ...(answer.stackId ? { 'stack-id': answer.stackId } : {}) }
      : {};
  await ports.requests.put(
    answerKey,
    answerBody(request, answer),
    { contentType: 'text/plain; charset=utf-8', metadata: { outcome: answer.kind, ...stack } },
    ctx.signal,
  );
  await ports.requests.delete(request.key, ctx.signal);
  let notified = true;
  try {
    await ports.notifier.notify(notice(request, answer), ctx.signal);
  } catch (err) {
    notified = false;
    ctx.logger.error({ err, answerKey }, 'the outcome is written, but its notice could not be sent');
  }
  ctx.logger.info({ answer: answer.kind, answerKey }, 'cluster request answered');
  return { answer: answer.kind, answerKey, notified, ...answerDetails(answer) };
}

function answerDetails(answer: ClusterAnswer): JsonObject {
  const { kind: _kind, ...rest } = answer;
  return { ...rest };
}
