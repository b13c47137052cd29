import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TaskResultMessage } from '../model/task-messages.ts';
import { type Html, type HtmlValue, html } from './html.ts';
import { pageLayout, sendHtml, sendText } from './page-layout.ts';
import {
  jsonCell,
  keyValueTable,
  nodeLink,
  type PageLinks,
  statusCell,
  taskLink,
  timeCell,
} from './page-parts.ts';
import type { ClusterReadModel, SubtaskView, TaskView } from './read-model.ts';

/**
 * Answers `/task/<id>`: the task's page with `links`, or Fossa's 404 `Task not found`.
 *
 * @example
 * ```ts
 * await answerTaskPage(req, res, readModel, 'abcde:3', nodePageLinks, signal);
 * ```
 */
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
 * The page of one task (`/task/<id>`, on a node and on the gateway): its summary, its results
 * (Fossa's `{type, payload}` with the payload as a table, the traceback as a list, the
 * failure origin as a link), and its subtasks with the node that ran each.
 *
 * @example
 * ```ts
 * sendHtml(req, res, 200, taskPage(task, nodePageLinks));
 * ```
 */
export function taskPage(task: TaskView, links: PageLinks): Html {
  const summary = keyValueTable('task', [
    ['task_id', task.taskId],
    ['status', statusCell(task.status)],
    ['model_class', task.modelClass],
    ['method', task.method],
    ['method_kwargs', jsonCell(task.methodKwargs)],
    ['model_construction_kwargs', jsonCell(task.modelConstructionKwargs)],
    ['resolver_context', jsonCell(task.resolverContext)],
    ['started', timeCell(task.startedAt)],
    ['finished', timeCell(task.finishedAt)],
    ['node', nodeLink(links, task.nodeId)],
    ['parent_task_id', taskLink(links, task.parentTaskId)],
    ['failure_origin_task_id', taskLink(links, task.failureOriginTaskId)],
  ]);
  return pageLayout({
    title: `Task ${task.taskId}`,
    subtitle: `${task.modelClass}.${task.method}`,
    body: html`${summary}
<section id="results"><h2>Results</h2>${task.results === null ? html`<p>No results yet.</p>` : resultsPart(task.results, links)}</section>
<section><h2>Subtasks</h2>${subtaskTable(task.subtasks, links)}</section>`,
  });
}

function resultsPart(results: TaskResultMessage, links: PageLinks): Html {
  const rows: [string, HtmlValue][] = Object.entries(results.payload).map(([key, value]) => [
    key,
    payloadValue(key, value, links),
  ]);
  return html`<h3 id="results-type">${results.type}</h3>${keyValueTable('results-payload', rows)}`;
}

function payloadValue(key: string, value: unknown, links: PageLinks): HtmlValue {
  if (key === 'failure_origin_task_id' || key === 'task_id')
    return typeof value === 'string' ? taskLink(links, value) : jsonCell(value);
  if (key === 'traceback' && Array.isArray(value))
    return html`<ol class="traceback">${value.map((line) => html`<li><pre>${String(line)}</pre></li>`)}</ol>`;
  if (typeof value === 'string') return value;
  return jsonCell(value);
}

function subtaskTable(subtasks: readonly SubtaskView[], links: PageLinks): Html {
  if (subtasks.length === 0) return html`<p id="subtasks-empty">This task has no subtasks.</p>`;
  return html`<table id="subtasks"><thead><tr><th>Task Id</th><th>Status</th><th>Node</th><th>Attempts</th><th>Started</th><th>Finished</th><th>Model class</th><th>Method</th></tr></thead><tbody>${subtasks.map(
    (subtask) =>
      html`<tr><td>${taskLink(links, subtask.taskId)}</td><td>${statusCell(subtask.status)}</td><td>${nodeLink(
        links,
        subtask.nodeId,
      )}</td><td>${subtask.attempts}</td><td>${timeCell(subtask.startedAt)}</td><td>${timeCell(
        subtask.finishedAt,
      )}</td><td>${subtask.modelClass}</td><td>${subtask.method}</td></tr>`,
  )}</tbody></table>`;
}
