import type { Logger } from '@spotjobs/core';
import { type Html, hrefSegment, html } from '../web/html.ts';
import { nodeInfoTable } from '../web/node-pages.ts';
import { createPageHandler, type PageHandler, type PageRequest, pathId } from '../web/page-handler.ts';
import { pageLayout, sendHtml, sendText } from '../web/page-layout.ts';
import { keyValueTable, nodeLink, type PageLinks, timeCell } from '../web/page-parts.ts';
import type { ClusterReadModel, EcsTaskView, NodeView } from '../web/read-model.ts';
import { readTaskLists, taskListSections } from '../web/task-lists.ts';
import { answerTaskPage } from '../web/task-page.ts';
import { mergeClusterNodes } from './cluster-nodes.ts';
import type { EcsTaskLister } from './ecs-task-lister.ts';

export interface GatewayPagesOptions {
  readonly readModel: ClusterReadModel;
  /** The ECS task listing, on AWS; without it the nodes come from heartbeats only. */
  readonly ecs?: EcsTaskLister;
  readonly logger?: Logger;
  /** The server's shutdown: aborts reads still running. */
  readonly signal?: AbortSignal;
}

/** Links of the gateway pages: tasks and nodes. */
export const gatewayLinks: PageLinks = {
  task: (taskId) => `/task/${hrefSegment(taskId)}`,
  node: (nodeId) => `/node/${hrefSegment(nodeId)}`,
};

/**
 * The cluster view's pages (authentication is the server's job, in front of these):
 * - `GET /`: the nodes (heartbeats joined with ECS), the cluster's running tasks, and its
 *   recently finished tasks with the node that ran each (paged);
 * - `GET /node/<id>`: one node's info, running and recent tasks (paged);
 * - `GET /task/<id>`: a task, its results, and which node ran each subtask.
 *
 * @example
 * ```ts
 * const pages = createGatewayPages({ readModel, ecs, logger });
 * if (!pages(req, res)) sendText(req, res, 404, 'Not found');
 * ```
 */
export function createGatewayPages(options: GatewayPagesOptions): PageHandler {
  return createPageHandler<GatewayRoute>({
    route: gatewayRoute,
    answer: (request) => {
      const { route } = request;
      if (route.page === 'cluster') return clusterPage(request, options);
      if (route.page === 'node') return nodePage(request, options, route.nodeId);
      return answerTaskPage(
        request.req,
        request.res,
        options.readModel,
        route.taskId,
        gatewayLinks,
        request.signal,
      );
    },
    logger: options.logger,
    signal: options.signal,
  });
}

type GatewayRoute = { page: 'cluster' } | { page: 'node'; nodeId: string } | { page: 'task'; taskId: string };

function gatewayRoute(pathname: string): GatewayRoute | undefined {
  if (pathname === '/') return { page: 'cluster' };
  const taskId = pathId(pathname, 'task');
  if (taskId !== undefined) return { page: 'task', taskId };
  const nodeId = pathId(pathname, 'node');
  return nodeId === undefined ? undefined : { page: 'node', nodeId };
}

type ClusterNodes = { nodes: NodeView[]; ecsProblem: string | null };

async function clusterNodes(options: GatewayPagesOptions, signal: AbortSignal): Promise<ClusterNodes> {
  const heartbeats = await options.readModel.nodes(signal);
  if (!options.ecs) return { nodes: heartbeats, ecsProblem: null };
  let ecsTasks: EcsTaskView[];
  try {
    ecsTasks = await options.ecs.list(signal);
  } catch (err) {
    // The heartbeats still describe the cluster; say the ECS half is missing rather than fail.
    if (signal.aborted) throw err;
    options.logger?.warn({ err }, 'ECS task listing failed');
    return {
      nodes: mergeClusterNodes(heartbeats, []),
      ecsProblem: err instanceof Error ? err.message : String(err),
    };
  }
  return { nodes: mergeClusterNodes(heartbeats, ecsTasks), ecsProblem: null };
}

async function clusterPage(
  { req, res, url, signal }: PageRequest<GatewayRoute>,
  options: GatewayPagesOptions,
): Promise<void> {
  const [{ nodes, ecsProblem }, lists] = await Promise.all([
    clusterNodes(options, signal),
    readTaskLists(options.readModel, url.searchParams, undefined, signal),
  ]);
  const body = html`${ecsProblem === null ? '' : html`<p id="ecs-problem">The ECS task listing failed: ${ecsProblem}</p>`}
<h2>Nodes</h2>${nodesTable(nodes)}${taskListSections(lists, {
    path: '/',
    links: gatewayLinks,
    noneFinished: 'No task has finished yet.',
    showNode: true,
  })}`;
  sendHtml(req, res, 200, pageLayout({ title: 'Fossa cluster', subtitle: `${nodes.length} nodes`, body }));
}

function nodesTable(nodes: readonly NodeView[]): Html {
  if (nodes.length === 0) return html`<p id="nodes-empty">No node has reported yet.</p>`;
  return html`<table id="nodes"><thead><tr><th>Node</th><th>Seen through</th><th>Address</th><th>Capacity</th><th>Available</th><th>Running</th><th>Last heartbeat</th><th>ECS status</th><th>Capacity provider</th></tr></thead><tbody>${nodes.map(
    (node) =>
      html`<tr><td>${nodeLink(gatewayLinks, node.nodeId)}</td><td>${node.source}</td><td>${node.address ?? ''}</td><td>${
        node.capacity ?? ''
      }</td><td>${node.available ?? ''}</td><td>${node.runningTaskIds.length}</td><td>${timeCell(
        node.lastHeartbeatAt,
      )}</td><td>${node.ecs?.lastStatus ?? ''}</td><td>${node.ecs?.capacityProviderName ?? ''}</td></tr>`,
  )}</tbody></table>`;
}

async function nodePage(
  { req, res, url, signal }: PageRequest<GatewayRoute>,
  options: GatewayPagesOptions,
  nodeId: string,
): Promise<void> {
  const [{ nodes }, lists] = await Promise.all([
    clusterNodes(options, signal),
    readTaskLists(options.readModel, url.searchParams, nodeId, signal),
  ]);
  const node = nodes.find((candidate) => candidate.nodeId === nodeId);
  const neverSeen = lists.running.tasks.length === 0 && lists.finished.tasks.length === 0;
  if (node === undefined && neverSeen && lists.firstPage) {
    sendText(req, res, 404, 'Node not found');
    return;
  }
  const ecs = node?.ecs;
  const body = html`<p><a href="/">All nodes</a></p>
<h2>Node info</h2>${nodeInfoTable(node, nodeId)}${
    ecs === undefined
      ? ''
      : html`<h2>ECS task</h2>${keyValueTable('ecs-task', [
          ['task_arn', ecs.taskArn],
          ['last_status', ecs.lastStatus],
          ['group', ecs.group ?? ''],
          ['started', timeCell(ecs.startedAt)],
          ['private_ipv4_address', ecs.privateIpv4Address ?? ''],
          ['capacity_provider', ecs.capacityProviderName ?? ''],
        ])}`
  }${taskListSections(lists, {
    path: `/node/${hrefSegment(nodeId)}`,
    links: gatewayLinks,
    noneFinished: "This node hasn't run any tasks.",
    showNode: false,
  })}`;
  sendHtml(
    req,
    res,
    200,
    pageLayout({ title: `Node ${nodeId}`, subtitle: node?.source ?? 'history only', body }),
  );
}
