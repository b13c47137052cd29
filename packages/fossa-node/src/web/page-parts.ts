import { type Html, type HtmlValue, hrefSegment, html } from './html.ts';
import type { SubtaskStatus, TaskSummary } from './read-model.ts';

// The pieces the node pages and the gateway pages are built from: tables of tasks, key/value
// tables, timestamps, JSON values and links. Every value goes through `html`, so it is escaped.

/** Where links point: the node pages know tasks only; the gateway also has a page per node. */
export type PageLinks = {
  task(taskId: string): string;
  node?(nodeId: string): string;
};

/** Links of the node pages (`/task/<id>`). */
export const nodePageLinks: PageLinks = { task: (taskId) => `/task/${hrefSegment(taskId)}` };

/**
 * A timestamp (epoch ms) as UTC text in a `<time>` element; nothing for null.
 *
 * @example
 * ```ts
 * timeCell(0).toString(); // '<time datetime="1970-01-01T00:00:00.000Z">1970-01-01 00:00:00 UTC</time>'
 * ```
 */
export function timeCell(epochMs: number | null): Html {
  if (epochMs === null || !Number.isFinite(epochMs)) return html``;
  const iso = new Date(epochMs).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC</time>`;
}

/** A status word with its class, for colour. */
export function statusCell(status: SubtaskStatus): Html {
  return html`<span class="status-${status}">${status}</span>`;
}

/** A JSON value, indented, as text. */
export function jsonCell(value: unknown): Html {
  return html`<pre>${JSON.stringify(value, null, 2) ?? 'null'}</pre>`;
}

/** A link to a task, or nothing for null. */
export function taskLink(links: PageLinks, taskId: string | null): Html {
  return taskId === null ? html`` : html`<a href="${links.task(taskId)}">${taskId}</a>`;
}

/** A link to a node where the pages have one, else the node id as text. */
export function nodeLink(links: PageLinks, nodeId: string | null): Html {
  if (nodeId === null) return html``;
  return links.node ? html`<a href="${links.node(nodeId)}">${nodeId}</a>` : html`${nodeId}`;
}

/**
 * A two-column table of labels and values (Fossa's key/value tables).
 *
 * @example
 * ```ts
 * keyValueTable('node-info', [['node_ident', 'node-a'], ['max_concurrent_tasks', 4]]);
 * ```
 */
export function keyValueTable(id: string, rows: readonly (readonly [string, HtmlValue])[]): Html {
  return html`<table id="${id}" class="skinny-table"><tbody>${rows.map(
    ([label, value]) => html`<tr><th scope="row">${label}</th><td>${value}</td></tr>`,
  )}</tbody></table>`;
}

/**
 * A table of tasks: Task Id (linked), Status, Started, [Finished], Model class, Method, [Node],
 * or `empty` as a paragraph when there are none.
 */
export function taskTable(table: {
  id: string;
  tasks: readonly TaskSummary[];
  links: PageLinks;
  empty: string;
  showFinished: boolean;
  showNode: boolean;
}): Html {
  if (table.tasks.length === 0) return html`<p id="${table.id}-empty">${table.empty}</p>`;
  const { links } = table;
  return html`<table id="${table.id}"><thead><tr><th>Task Id</th><th>Status</th><th>Started</th>${
    table.showFinished ? html`<th>Finished</th>` : ''
  }<th>Model class</th><th>Method</th>${table.showNode ? html`<th>Node</th>` : ''}</tr></thead><tbody>${table.tasks.map(
    (task) =>
      html`<tr><td>${taskLink(links, task.taskId)}</td><td>${statusCell(task.status)}</td><td>${timeCell(task.startedAt)}</td>${
        table.showFinished ? html`<td>${timeCell(task.finishedAt)}</td>` : ''
      }<td>${task.modelClass}</td><td>${task.method}</td>${table.showNode ? html`<td>${nodeLink(links, task.nodeId)}</td>` : ''}</tr>`,
  )}</tbody></table>`;
}

/**
 * The link to the next page of a listing, or nothing on the last page. `path` is the page's
 * own path; the query keeps the page size.
 */
export function nextPageLink(path: string, limit: number, nextCursor: string | null): Html {
  if (nextCursor === null) return html``;
  const query = new URLSearchParams({ limit: String(limit), cursor: nextCursor });
  return html`<nav class="pages"><a rel="next" href="${`${path}?${query.toString()}`}">Older tasks</a></nav>`;
}
