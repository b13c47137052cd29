import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@spotjobs/core';
import { type Html, hrefSegment, html } from '../web/html.ts';
import {
  answerTaskPage,
  failPage,
  nodeInfoTable,
  type PageHandler,
  taskIdFromPath,
} from '../web/node-pages.ts';
import {
  pageLayout,
  requestSignal,
  STYLESHEET_PATH,
  sendHtml,
  sendStylesheet,
  sendText,
} from '../web/page-layout.ts';
import {
  keyValueTable,
  nextPageLink,
  nodeLink,
  type PageLinks,
  taskTable,
  timeCell,
} from '../web/page-parts.ts';
import type { ClusterReadModel, EcsTaskView, NodeView } from '../web/read-model.ts';
import { pageParams } from '../web/task-paging.ts';
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

/** Running tasks listed on one page: the cluster's slots, bounded. */
const RUNNING_LIMIT = 200;

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
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    const route = gatewayRoute(url.pathname);
    if (route === undefined) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendText(req, res, 405, 'Method not allowed');
      return true;
    }
    if (route.page === 'stylesheet') {
      sendStylesheet(req, res);
      return true;
    }
    const signal = requestSignal(res, options.signal);
    let answer: Promise<void>;
    if (route.page === 'cluster') answer = clusterPage(req, res, options, url, signal);
    else if (route.page === 'node') answer = nodePage(req, res, options, route.nodeId, url, signal);
    else answer = answerTaskPage(req, res, options.readModel, route.taskId, gatewayLinks, signal);
    answer.catch((err: unknown) => failPage(req, res, err, options.logger));
    return true;
  };
}

type GatewayRoute =
  | { page: 'cluster' }
  | { page: 'stylesheet' }
  | { page: 'node'; nodeId: string }
  | { page: 'task'; taskId: string };

function gatewayRoute(pathname: string): GatewayRoute | undefined {
  if (pathname === '/') return { page: 'cluster' };
  if (pathname === STYLESHEET_PATH) return { page: 'stylesheet' };
  const taskId = taskIdFromPath(pathname);
  if (taskId !== undefined) return { page: 'task', taskId };
  const match = /^\/node\/([^/]+)$/.exec(pathname);
  if (!match?.[1]) return undefined;
  try {
    return { page: 'node', nodeId: decodeURIComponent(match[1]) };
  } catch {
    return undefined;
  }
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
  req: IncomingMessage,
  res: ServerResponse,
  options: GatewayPagesOptions,
  url: URL,
  signal: AbortSignal,
): Promise<void> {
  const page = pageParams(url.searchParams);
  const [{ nodes, ecsProblem }, running, finished] = await Promise.all([
    clusterNodes(options, signal),
    options.readModel.tasks({ state: 'running', limit: RUNNING_LIMIT }, signal),
    options.readModel.tasks({ state: 'finished', ...page }, signal),
  ]);
  const body = html`${ecsProblem === null ? '' : html`<p id="ecs-problem">The ECS task listing failed: ${ecsProblem}</p>`}
<h2>Nodes</h2>${nodesTable(nodes)}
<h2>Running Tasks</h2>${taskTable({
    id: 'running-tasks',
    tasks: running.tasks,
    links: gatewayLinks,
    empty: "There aren't currently any running tasks.",
    showFinished: false,
    showNode: true,
  })}
<h2>Recently Completed Tasks</h2>${taskTable({
    id: 'recent-tasks',
    tasks: finished.tasks,
    links: gatewayLinks,
    empty: 'No task has finished yet.',
    showFinished: true,
    showNode: true,
  })}${nextPageLink('/', page.limit, finished.nextCursor)}`;
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
  req: IncomingMessage,
  res: ServerResponse,
  options: GatewayPagesOptions,
  nodeId: string,
  url: URL,
  signal: AbortSignal,
): Promise<void> {
  const page = pageParams(url.searchParams);
  const [{ nodes }, running, finished] = await Promise.all([
    clusterNodes(options, signal),
    options.readModel.tasks({ state: 'running', nodeId, limit: RUNNING_LIMIT }, signal),
    options.readModel.tasks({ state: 'finished', nodeId, ...page }, signal),
  ]);
  const node = nodes.find((candidate) => candidate.nodeId === nodeId);
  if (
    node === undefined &&
    running.tasks.length === 0 &&
    finished.tasks.length === 0 &&
    page.cursor === undefined
  ) {
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
  }
<h2>Running Tasks</h2>${taskTable({
    id: 'running-tasks',
    tasks: running.tasks,
    links: gatewayLinks,
    empty: "There aren't currently any running tasks.",
    showFinished: false,
    showNode: false,
  })}
<h2>Recently Completed Tasks</h2>${taskTable({
    id: 'recent-tasks',
    tasks: finished.tasks,
    links: gatewayLinks,
    empty: "This node hasn't run any tasks.",
    showFinished: true,
    showNode: false,
  })}${nextPageLink(`/node/${hrefSegment(nodeId)}`, page.limit, finished.nextCursor)}`;
  sendHtml(
    req,
    res,
    200,
    pageLayout({ title: `Node ${nodeId}`, subtitle: node?.source ?? 'history only', body }),
  );
}
