import { ValidationError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { InMemoryClusterReadModel } from '../src/web/in-memory-cluster-read-model.ts';
import { TaskPageLimits } from '../src/web/read-model.ts';
import { checkTaskQuery, offsetCursor, offsetFromCursor, pageParams } from '../src/web/task-paging.ts';
import { taskView } from './support/cluster-views.ts';

const signal = new AbortController().signal;

describe('checkTaskQuery', () => {
  it('accepts limits from 1 to the maximum', () => {
    expect(checkTaskQuery({ state: 'finished', limit: 1 }).limit).toBe(1);
    expect(checkTaskQuery({ state: 'running', limit: TaskPageLimits.maxLimit }).limit).toBe(200);
  });

  it.each([0, -1, 201, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses limit %s', (limit) => {
    expect(() => checkTaskQuery({ state: 'finished', limit })).toThrow(
      /limit must be an integer from 1 to 200/,
    );
  });

  it('lists every problem at once', () => {
    const query = { state: 'done' as 'finished', limit: 0, cursor: 'not a cursor!', nodeId: '' };
    const error = (() => {
      try {
        checkTaskQuery(query);
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toHaveLength(4);
  });

  it('refuses an over-long cursor', () => {
    expect(() => checkTaskQuery({ state: 'finished', limit: 5, cursor: 'a'.repeat(1025) })).toThrow(/cursor/);
  });
});

describe('pageParams', () => {
  it('defaults the limit and clamps one out of bounds', () => {
    expect(pageParams(new URLSearchParams(''))).toEqual({ limit: TaskPageLimits.defaultLimit });
    expect(pageParams(new URLSearchParams('limit=1000'))).toEqual({ limit: 200 });
    expect(pageParams(new URLSearchParams('limit=0'))).toEqual({ limit: 1 });
  });

  it('refuses a limit that is not a whole number and a cursor with foreign characters', () => {
    expect(() => pageParams(new URLSearchParams('limit=-3'))).toThrow(ValidationError);
    expect(() => pageParams(new URLSearchParams('limit=1e3'))).toThrow(ValidationError);
    expect(() => pageParams(new URLSearchParams('limit=99999999999'))).toThrow(ValidationError);
    expect(() => pageParams(new URLSearchParams('cursor=%3Cscript%3E'))).toThrow(ValidationError);
  });

  it('passes a cursor on', () => {
    const cursor = offsetCursor(25);
    expect(pageParams(new URLSearchParams({ limit: '10', cursor }))).toEqual({ limit: 10, cursor });
  });
});

describe('offset cursors', () => {
  it('round-trip and refuse tokens they did not issue', () => {
    expect(offsetFromCursor(offsetCursor(0))).toBe(0);
    expect(offsetFromCursor(offsetCursor(12345))).toBe(12345);
    expect(offsetFromCursor(undefined)).toBe(0);
    expect(() => offsetFromCursor(Buffer.from('o:-1').toString('base64url'))).toThrow(ValidationError);
    expect(() => offsetFromCursor('abc')).toThrow(ValidationError);
  });
});

describe('InMemoryClusterReadModel listings', () => {
  function modelWith(finished: number, running: number): InMemoryClusterReadModel {
    const model = new InMemoryClusterReadModel();
    const base = Date.UTC(2026, 0, 1);
    for (let i = 0; i < finished; i++)
      model.putTask(
        taskView({
          taskId: `f${String(i).padStart(3, '0')}`,
          startedAt: base + i * 1000,
          finishedAt: base + i * 1000 + 500,
          nodeId: i % 2 === 0 ? 'node-a' : 'node-b',
        }),
      );
    for (let i = 0; i < running; i++)
      model.putTask(
        taskView({
          taskId: `r${i}`,
          status: 'running',
          startedAt: base + (running - i) * 1000,
          finishedAt: null,
          results: null,
        }),
      );
    return model;
  }

  it('pages finished tasks newest first, bounded, without repeats or gaps', async () => {
    const model = modelWith(60, 3);
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await model.tasks({ state: 'finished', limit: 25, ...(cursor ? { cursor } : {}) }, signal);
      sizes.push(page.tasks.length);
      seen.push(...page.tasks.map((task) => task.taskId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(sizes).toEqual([25, 25, 10]);
    expect(new Set(seen).size).toBe(60);
    expect(seen[0]).toBe('f059');
    expect(seen.at(-1)).toBe('f000');
  });

  it('answers no next cursor when the page ends exactly at the last task', async () => {
    const page = await modelWith(25, 0).tasks({ state: 'finished', limit: 25 }, signal);
    expect(page.tasks).toHaveLength(25);
    expect(page.nextCursor).toBeNull();
  });

  it('lists running tasks oldest first and filters by node', async () => {
    const model = modelWith(10, 3);
    const running = await model.tasks({ state: 'running', limit: 10 }, signal);
    expect(running.tasks.map((task) => task.taskId)).toEqual(['r2', 'r1', 'r0']);
    const onB = await model.tasks({ state: 'finished', nodeId: 'node-b', limit: 200 }, signal);
    expect(onB.tasks).toHaveLength(5);
    expect(onB.tasks.every((task) => task.nodeId === 'node-b')).toBe(true);
  });

  it('refuses an out-of-bounds limit and a foreign cursor', async () => {
    const model = modelWith(3, 0);
    await expect(model.tasks({ state: 'finished', limit: 201 }, signal)).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(model.tasks({ state: 'finished', limit: 5, cursor: 'Zm9v' }, signal)).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});
