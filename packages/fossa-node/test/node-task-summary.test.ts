import { describe, expect, it } from 'vitest';
import { NodeActivity } from '../src/node/node-activity.ts';
import { httpDate, taskSummary } from '../src/node/task-summary.ts';
import { taskRecord } from './support/task-records.ts';

const base = taskRecord({ task_id: 'abcde' });

describe('taskSummary', () => {
  it("has Fossa's keys, HTTP-date times, and no results while running", () => {
    const summary = taskSummary(base);
    expect(summary).toMatchObject({
      model_class: 'NothingEtl',
      method: 'go',
      on_completion_callback: null,
      task_id: 'abcde',
      started: 'Tue, 16 Apr 2024 10:22:00 GMT',
      status: 'running',
    });
    expect(summary).not.toHaveProperty('results');
    expect(summary).not.toHaveProperty('finished');
  });

  it('reads a queued subtask as running, and adds finished and results once done', () => {
    expect(taskSummary({ ...base, status: 'queued', started: null }).status).toBe('running');
    const results = {
      type: 'TaskComplete',
      payload: { method_name: 'go', method_kwargs: {}, return_value: true },
    } as const;
    const done = taskSummary({ ...base, status: 'complete', finished: base.started! + 1000, results });
    expect(done).toMatchObject({ status: 'complete', finished: 'Tue, 16 Apr 2024 10:22:01 GMT', results });
    expect(httpDate(null)).toBeNull();
  });
});

describe('NodeActivity', () => {
  it('lists running tasks oldest first and keeps a bounded history, newest first', () => {
    const activity = new NodeActivity(2);
    activity.started({ ...base, task_id: 'later', started: 2000 });
    activity.started({ ...base, task_id: 'first', started: 1000 });
    expect(activity.running().map((r) => r.task_id)).toEqual(['first', 'later']);
    for (const id of ['first', 'later']) activity.finished({ ...base, task_id: id, status: 'complete' });
    activity.finished({ ...base, task_id: 'third', status: 'complete' });
    expect(activity.running()).toEqual([]);
    expect(activity.recent().map((r) => r.task_id)).toEqual(['third', 'later']);
    activity.started({ ...base, task_id: 'gone' });
    activity.left('gone');
    expect(activity.isRunning('gone')).toBe(false);
  });
});
