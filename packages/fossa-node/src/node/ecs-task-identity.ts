import { isIPv4 } from 'node:net';
import { AbortedError, BackendError, ValidationError } from '@spotjobs/core';
import { ecsTaskId } from '../gateway/cluster-nodes.ts';

/** Who this node is on ECS: the names the gateway's ECS listing knows the task by. */
export interface EcsTaskIdentity {
  /** The task id (the last segment of `TaskARN`): the node id. */
  readonly taskId: string;
  /** The task's private IPv4 address (awsvpc): the host of the advertised address. */
  readonly privateIpv4Address: string;
}

/** How long the metadata endpoint may take; it is local to the task and answers at once. */
export const ECS_METADATA_TIMEOUT_MS = 2000;

const TASK_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * The identity in a task metadata (v4) `/task` response: `TaskARN`'s last segment, and the
 * first IPv4 address of the first container network that has one. Throws `ValidationError`
 * when the document lacks either.
 *
 * @example
 * ```ts
 * parseEcsTaskIdentity({
 *   TaskARN: 'arn:aws:ecs:eu-west-2:123456789012:task/fossa/0f1e2d3c',
 *   Containers: [{ Networks: [{ NetworkMode: 'awsvpc', IPv4Addresses: ['10.0.2.7'] }] }],
 * }); // { taskId: '0f1e2d3c', privateIpv4Address: '10.0.2.7' }
 * ```
 */
export function parseEcsTaskIdentity(document: unknown): EcsTaskIdentity {
  const problems: string[] = [];
  const task = (typeof document === 'object' && document !== null ? document : {}) as {
    TaskARN?: unknown;
    Containers?: unknown;
  };
  const arn = task.TaskARN;
  const taskId = typeof arn === 'string' && arn.startsWith('arn:') ? ecsTaskId(arn) : '';
  if (!TASK_ID.test(taskId)) problems.push('TaskARN: missing or not an ECS task ARN');
  const containers = Array.isArray(task.Containers) ? task.Containers : [];
  const addresses = containers.flatMap((container: { Networks?: unknown } | null) =>
    (Array.isArray(container?.Networks) ? container.Networks : []).flatMap(
      (network: { IPv4Addresses?: unknown } | null) =>
        Array.isArray(network?.IPv4Addresses) ? network.IPv4Addresses : [],
    ),
  );
  const privateIpv4Address = addresses.find(
    (address): address is string => typeof address === 'string' && isIPv4(address),
  );
  if (privateIpv4Address === undefined)
    problems.push('Containers[].Networks[].IPv4Addresses: no IPv4 address');
  if (problems.length > 0) throw new ValidationError('unexpected ECS task metadata', problems);
  return { taskId, privateIpv4Address: privateIpv4Address! };
}

/**
 * Reads this task's identity from the task metadata endpoint (`ECS_CONTAINER_METADATA_URI_V4`):
 * `GET <uri>/task`, within `ECS_METADATA_TIMEOUT_MS`. An unreachable endpoint or a bad status
 * throws `BackendError`, a document without the identity `ValidationError`.
 *
 * @example
 * ```ts
 * const identity = await readEcsTaskIdentity(config.ecsTaskMetadataUri, signal);
 * node.address = `${identity.privateIpv4Address}:${port}`;
 * ```
 */
export async function readEcsTaskIdentity(
  metadataUri: string,
  signal: AbortSignal,
  timeoutMs: number = ECS_METADATA_TIMEOUT_MS,
): Promise<EcsTaskIdentity> {
  const url = `${metadataUri.replace(/\/+$/, '')}/task`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
  } catch (err) {
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
    throw new BackendError(`cannot read ECS task metadata from ${url}`, true, { cause: err });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new BackendError(`ECS task metadata at ${url} answered ${response.status}`, response.status >= 500);
  }
  return parseEcsTaskIdentity(await response.json());
}
