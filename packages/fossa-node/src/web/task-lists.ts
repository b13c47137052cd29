import { type Html, html } from './html.ts';
import { nextPageLink, type PageLinks, taskTable } from './page-parts.ts';
import { type ClusterReadModel, type TaskPage, TaskPageLimits } from './read-model.ts';
import { pageParams } from './task-paging.ts';

/** The running tasks and one page of finished tasks of a listing page (a node's or the cluster's). */
export type TaskLists = {
  readonly running: TaskPage;
  readonly finished: TaskPage;
  /** The page size asked for (`?limit=`), kept by the next-page link. */
  readonly limit: number;
  /** True on the first page of finished tasks (no `?cursor=`). */
  readonly firstPage: boolean;
};

/**
 * Reads a listing page's tasks: all running tasks (a node runs at most its capacity and the
 * cluster a bounded set, so one page of `TaskPageLimits.maxLimit` holds them) and the page of
 * finished tasks the query (`?limit=&cursor=`) asks for; `nodeId` narrows both to one node.
 * Throws core's `ValidationError` for a bad query.
 *
 * @example
 * ```ts
 * const lists = await readTaskLists(readModel, url.searchParams, 'node-a', signal);
 * ```
 */
export async function readTaskLists(
  readModel: ClusterReadModel,
  query: URLSearchParams,
  nodeId: string | undefined,
  signal: AbortSignal,
): Promise<TaskLists> {
  const page = pageParams(query);
  const byNode = nodeId === undefined ? {} : { nodeId };
  const [running, finished] = await Promise.all([
    readModel.tasks({ state: 'running', ...byNode, limit: TaskPageLimits.maxLimit }, signal),
    readModel.tasks({ state: 'finished', ...byNode, ...page }, signal),
  ]);
  return { running, finished, limit: page.limit, firstPage: page.cursor === undefined };
}

/**
 * The "Running Tasks" and "Recently Completed Tasks" sections with the link to older tasks;
 * `path` is the listing page's own path, `showNode` adds the node column (on cluster-wide lists).
 *
 * @example
 * ```ts
 * const body = html`<h2>Node info</h2>${info}${taskListSections(lists, {
 *   path: '/', links: nodePageLinks, noneFinished: 'No task yet.', showNode: false,
 * })}`;
 * ```
 */
export function taskListSections(
  lists: TaskLists,
  view: { path: string; links: PageLinks; noneFinished: string; showNode: boolean },
): Html {
  return html`
<h2>Running Tasks</h2>${taskTable({
    id: 'running-tasks',
    tasks: lists.running.tasks,
    links: view.links,
    empty: "There aren't currently any running tasks.",
    showFinished: false,
    showNode: view.showNode,
  })}
<h2>Recently Completed Tasks</h2>${taskTable({
    id: 'recent-tasks',
    tasks: lists.finished.tasks,
    links: view.links,
    empty: view.noneFinished,
    showFinished: true,
    showNode: view.showNode,
  })}${nextPageLink(view.path, lists.limit, lists.finished.nextCursor)}`;
}
