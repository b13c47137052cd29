import { describe, expect, it } from 'vitest';
import { gatewayLinks } from '../src/gateway/gateway-pages.ts';
import { nodePageLinks, taskTable, timeCell } from '../src/web/page-parts.ts';
import { taskPage } from '../src/web/task-page.ts';
import { failedParentView, subtaskView, taskView } from './support/cluster-views.ts';

const XSS = `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">`;

describe('taskPage', () => {
  it('renders a failure: payload table, traceback as a list, the origin as a link', () => {
    const page = taskPage(
      failedParentView({
        taskId: 'abcde',
        failureOriginTaskId: 'abcde:0',
        traceback: ['line one', 'line <two>'],
        subtasks: [subtaskView({ taskId: 'abcde:0', status: 'failed', attempts: 2, nodeId: 'node-c' })],
      }),
      nodePageLinks,
    ).toString();
    expect(page).toContain('<h3 id="results-type">TaskFailed</h3>');
    expect(page).toContain(
      '<ol class="traceback"><li><pre>line one</pre></li><li><pre>line &lt;two&gt;</pre></li></ol>',
    );
    expect(page).toContain('<a href="/task/abcde%3A0">abcde:0</a>');
    expect(page).toContain('&lt;class &#39;SubTaskFailedError&#39;&gt;');
    expect(page).toMatch(
      /<td><a href="\/task\/abcde%3A0">abcde:0<\/a><\/td><td><span class="status-failed">failed<\/span><\/td><td>node-c<\/td><td>2<\/td>/,
    );
  });

  it('escapes hostile model names, kwargs and results everywhere', () => {
    const page = taskPage(
      taskView({
        taskId: `id${XSS}`,
        modelClass: XSS,
        method: XSS,
        methodKwargs: { [XSS]: XSS },
        resolverContext: { x: XSS },
        nodeId: XSS,
        parentTaskId: XSS,
        results: {
          type: 'TaskComplete',
          payload: { method_name: XSS, method_kwargs: {}, return_value: XSS },
        },
        subtasks: [subtaskView({ taskId: XSS, modelClass: XSS, method: XSS, nodeId: XSS })],
      }),
      gatewayLinks,
    ).toString();
    expect(page).not.toContain('<script>window');
    expect(page).not.toContain('<img');
    expect(page).not.toMatch(/onerror="/);
    expect(page).toContain('&lt;script&gt;window.__xss=1&lt;/script&gt;');
    // Ids in links stay inside their path segment.
    expect(page).toContain('href="/task/%3Cscript%3Ewindow.__xss%3D1');
    expect(page).toContain('href="/node/%3Cscript%3E');
  });

  it('says so when a task has no results or subtasks yet', () => {
    const page = taskPage(
      taskView({ taskId: 'r', status: 'running', finishedAt: null, results: null }),
      nodePageLinks,
    ).toString();
    expect(page).toContain('No results yet.');
    expect(page).toContain('This task has no subtasks.');
  });
});

describe('page parts', () => {
  it('shows an empty listing as its message', () => {
    expect(
      taskTable({
        id: 'x',
        tasks: [],
        links: nodePageLinks,
        empty: 'none <here>',
        showFinished: true,
        showNode: true,
      }).toString(),
    ).toBe('<p id="x-empty">none &lt;here&gt;</p>');
  });

  it('formats timestamps in UTC and nothing for null', () => {
    expect(timeCell(Date.UTC(2026, 0, 2, 3, 4, 5)).toString()).toBe(
      '<time datetime="2026-01-02T03:04:05.000Z">2026-01-02 03:04:05 UTC</time>',
    );
    expect(timeCell(null).toString()).toBe('');
  });
});
