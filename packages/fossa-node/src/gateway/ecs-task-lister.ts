import type { EcsTaskView } from '../web/read-model.ts';

/**
 * The ECS tasks of the node service, as the gateway lists them beside the heartbeats (on AWS
 * only: a node whose task runs but never wrote a heartbeat shows up, and so does one ECS has
 * stopped while its last heartbeat still looks fresh).
 *
 * @example
 * ```ts
 * const tasks = await lister.list(signal); // [{ taskArn, lastStatus: 'RUNNING', privateIpv4Address: '10.0.2.7', ... }]
 * ```
 */
export interface EcsTaskLister {
  list(signal: AbortSignal): Promise<EcsTaskView[]>;
}
