import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Logger, ValidationError } from '@spotjobs/core';
import { type Html, html } from './html.ts';
import {
  pageLayout,
  requestSignal,
  STYLESHEET_PATH,
  sendHtml,
  sendStylesheet,
  sendText,
} from './page-layout.ts';
import {
  keyValueTable,
  nextPageLink,
  nodePageLinks,
  type PageLinks,
  taskTable,
  timeCell,
} from './page-parts.ts';
import type { ClusterReadModel, NodeView } from './read-model.ts';
import { taskPage } from './task-page.ts';
import { pageParams } from './task-paging.ts';

/** Mounts pages on a `node:http` server: true when the request was one of them (answered or being answered). */
export type PageHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface NodePagesOptions {
  /** This node's id: the `/` page shows its info and the tasks it ran. */
  readonly nodeId: string;
  /** Where a failing read is logged; the browser sees a 500 page without details. */
  readonly logger?: Logger;
  /** The server's shutdown: aborts reads still running. */
  readonly signal?: AbortSignal;
}

/** Running tasks shown on `/`: a node runs at most its capacity, so one bounded page holds them. */
const RUNNING_LIMIT = 200;

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
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://node.invalid');
    const route = nodeRoute(url.pathname);
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
    const answer =
      route.page === 'node'
        ? nodeIndex(req, res, readModel, options.nodeId, url, signal)
        : answerTaskPage(req, res, readModel, route.taskId, nodePageLinks, signal);
    answer.catch((err: unknown) => failPage(req, res, err, options.logger));
    return true;
  };
}

type NodeRoute = { page: 'node' } | { page: 'stylesheet' } | { page: 'task'; taskId: string };

function nodeRoute(pathname: string): NodeRoute | undefined {
  if (pathname === '/') return { page: 'node' };
  if (pathname === STYLESHEET_PATH) return { page: 'stylesheet' };
  const taskId = taskIdFromPath(pathname);
  return taskId === undefined ? undefined : { page: 'task', taskId };
}

/**
 * The task id of a `/task/<id>` path (percent-decoded), or undefined for any other path.
 *
 * @example
 * ```ts
 * taskIdFromPath('/task/abcde%3A3'); // 'abcde:3'
 * ```
 */
export function taskIdFromPath(pathname: string): string | undefined {
  const match = /^\/task\/([^/]+)$/.exec(pathname);
  if (!match?.[1]) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return undefined; // malformed percent-encoding names no task
  }
}

async function nodeIndex(
  req: IncomingMessage,
  res: ServerResponse,
  readModel: ClusterReadModel,
  nodeId: string,
  url: URL,
  signal: AbortSignal,
): Promise<void> {
  const page = pageParams(url.searchParams);
  const [nodes, running, finished] = await Promise.all([
    readModel.nodes(signal),
    readModel.tasks({ state: 'running', nodeId, limit: RUNNING_LIMIT }, signal),
    readModel.tasks({ state: 'finished', nodeId, ...page }, signal),
  ]);
  const node = nodes.find((candidate) => candidate.nodeId === nodeId);
  const body = html`<h2>Node info</h2>${nodeInfoTable(node, nodeId)}
<h2>Running Tasks</h2>${taskTable({
    id: 'running-tasks',
    tasks: running.tasks,
    links: nodePageLinks,
    empty: "There aren't currently any running tasks.",
    showFinished: false,
    showNode: false,
  })}
<h2>Recently Completed Tasks</h2>${taskTable({
    id: 'recent-tasks',
    tasks: finished.tasks,
    links: nodePageLinks,
    empty: "This Fossa node hasn't run any tasks since it started.",
    showFinished: true,
    showNode: false,
  })}${nextPageLink('/', page.limit, finished.nextCursor)}`;
  sendHtml(
    req,
    res,
    200,
    pageLayout({ title: 'Fossa', subtitle: 'Execution engine for Aye-Aye ETL models', body }),
  );
}

/** The node's key/value table, with Fossa's field names. */
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

/** Answers `/task/<id>`: the task's page with `links`, or Fossa's 404 `Task not found`. */
export async function answerTaskPage(
  req: IncomingMessage,
  res: ServerResponse,
  readModel: ClusterReadModel,
  taskId: string,
  links: PageLinks,
  signal: AbortSignal,
): Promise<void> {
  const task = await readModel.task(taskId, signal);
  if (task === undefined) sendText(req, res, 404, 'Task not found');
  else sendHtml(req, res, 200, taskPage(task, links));
}

/**
 * Answers a page whose read failed: 400 naming the problem for a bad `?limit=`/`?cursor=`, else
 * a 500 without details (logged). Nothing when the client already left.
 */
export function failPage(
  req: IncomingMessage,
  res: ServerResponse,
  err: unknown,
  logger: Logger | undefined,
): void {
  if (res.headersSent || res.destroyed) return;
  if (err instanceof ValidationError) {
    sendText(req, res, 400, `Bad request: ${err.issues.join('; ')}`);
    return;
  }
  logger?.error({ err, url: req.url }, 'page failed');
  sendText(req, res, 500, 'Internal error');
}
