import type { EcsTaskView, NodeView } from '../web/read-model.ts';

/** The node API's port (Fossa's), for a node known only from ECS. */
export const FOSSA_NODE_PORT = 2345;

/**
 * The nodes the gateway lists: those with heartbeats in the Table joined with the ECS task
 * listing. A node and an ECS task are the same when the node's address has the task's private
 * IP, or the node id is the task's id (the last segment of its ARN). Matched nodes are
 * `both`; a task no heartbeat names is an `ecs` node (starting, or unable to reach the
 * Table); a node no task names stays `heartbeat` (local, or gone from ECS). Sorted by id.
 *
 * @example
 * ```ts
 * mergeClusterNodes(await readModel.nodes(signal), await ecs.list(signal));
 * ```
 */
export function mergeClusterNodes(
  heartbeatNodes: readonly NodeView[],
  ecsTasks: readonly EcsTaskView[],
): NodeView[] {
  const unmatched = new Set(ecsTasks);
  const merged: NodeView[] = heartbeatNodes.map((node) => {
    const host = hostOf(node.address);
    const task = [...unmatched].find(
      (candidate) =>
        (host !== null && candidate.privateIpv4Address === host) ||
        ecsTaskId(candidate.taskArn) === node.nodeId,
    );
    if (task === undefined) return { ...node, source: 'heartbeat' };
    unmatched.delete(task);
    return { ...node, source: 'both', ecs: task };
  });
  for (const task of unmatched) {
    merged.push({
      nodeId: ecsTaskId(task.taskArn),
      address: task.privateIpv4Address === null ? null : `${task.privateIpv4Address}:${FOSSA_NODE_PORT}`,
      capacity: null,
      available: null,
      runningTaskIds: [],
      lastHeartbeatAt: null,
      source: 'ecs',
      ecs: task,
    });
  }
  return merged.sort((a, b) => a.nodeId.localeCompare(b.nodeId));
}

/**
 * The task id of an ECS task ARN (its last path segment).
 *
 * @example
 * ```ts
 * ecsTaskId('arn:aws:ecs:eu-west-2:123456789012:task/fossa-cluster/0f1e2d'); // '0f1e2d'
 * ```
 */
export function ecsTaskId(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
}

function hostOf(address: string | null): string | null {
  if (address === null || address === '') return null;
  try {
    const url = new URL(address.includes('://') ? address : `http://${address}`);
    return url.hostname.replace(/^\[|\]$/g, '');
  } catch {
    return null;
  }
}
