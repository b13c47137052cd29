import type { Logger } from '@spotjobs/core';
import { type Html, html } from './html.ts';
import { createPageHandler, type PageHandler, type PageRequest, pathId } from './page-handler.ts';
import { pageLayout, sendHtml } from './page-layout.ts';
import { keyValueTable, nodePageLinks, timeCell } from './page-parts.ts';
import type { ClusterReadModel, NodeView } from './read-model.ts';
import { readTaskLists, taskListSections } from './task-lists.ts';
import { answerTaskPage } from './task-page.ts';

export interface NodePagesOptions {
  /** This node's id: the `/` page shows its info and the tasks it ran. */
  readonly nodeId: string;
  /** Where a failing read is logged; the browser sees a 500 page without details. */
  readonly logger?: Logger;
  /** The server's shutdown: aborts reads still running. */
  readonly signal?: AbortSignal;
}

/**
 * Fossa's node pages, rendered on the server as plain HTML from a `ClusterReadModel`:
 * - `GET /`: node info, its running tasks, its recently finished tasks (paged with
 *   `?limit=&cursor=`);
 * - `GET /task/<id>`: any task of the cluster (task state lives in the Table), its results
 *   and subtasks; unknown → 404 `Task not found` as in Fossa;
 * - `GET /static/fossa.css`.
 *
 * @example
 * ```ts
 * const pages = createNodePages(readModel, { nodeId, logger });
 * createServer((req, res) => { if (!pages(req, res)) api(req, res); });
 * ```
 */
export function createNodePages(readModel: ClusterReadModel, options: NodePagesOptions): PageHandler {
  return createPageHandler<NodeRoute>({
    route: nodeRoute,
    answer: (request) =>
      request.route.page === 'node'
        ? nodeIndex(request, readModel, options.nodeId)
        : answerTaskPage(
            request.req,
            request.res,
            readModel,
            request.route.taskId,
            nodePageLinks,
            request.signal,
          ),
    logger: options.logger,
    signal: options.signal,
  });
}

type NodeRoute = { page: 'node' } | { page: 'task'; taskId: string };

function nodeRoute(pathname: string): NodeRoute | undefined {
  if (pathname === '/') return { page: 'node' };
  const taskId = pathId(pathname, 'task');
  return taskId === undefined ? undefined : { page: 'task', taskId };
}

async function nodeIndex(
  { req, res, url, signal }: PageRequest<NodeRoute>,
  readModel: ClusterReadModel,
  nodeId: string,
): Promise<void> {
  const [nodes, lists] = await Promise.all([
    readModel.nodes(signal),
    readTaskLists(readModel, url.searchParams, nodeId, signal),
  ]);
  const node = nodes.find((candidate) => candidate.nodeId === nodeId);
  const body = html`<h2>Node info</h2>${nodeInfoTable(node, nodeId)}${taskListSections(lists, {
    path: '/',
    links: nodePageLinks,
    noneFinished: "This Fossa node hasn't run any tasks since it started.",
    showNode: false,
  })}`;
  sendHtml(
    req,
    res,
    200,
    pageLayout({ title: 'Fossa', subtitle: 'Execution engine for Aye-Aye ETL models', body }),
  );
}

/**
 * The node's key/value table, with Fossa's field names (on the node's `/` and the gateway's `/node/<id>`).
 *
 * @example
 * ```ts
 * const info = nodeInfoTable(nodes.find((node) => node.nodeId === nodeId), nodeId);
 * ```
 */
export function nodeInfoTable(node: NodeView | undefined, nodeId: string): Html {
  return keyValueTable('node-info', [
    ['node_ident', nodeId],
    ['address', node?.address ?? ''],
    ['max_concurrent_tasks', node?.capacity ?? ''],
    ['available_processing_capacity', node?.available ?? ''],
    ['running_tasks', node?.runningTaskIds.length ?? ''],
    ['last_heartbeat', timeCell(node?.lastHeartbeatAt ?? null)],
  ]);
}
