import { AbortedError, ValidationError } from '@spotjobs/core';
import { ManualClock } from '@spotjobs/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { InvalidPartitionError } from '../src/errors.ts';
import { checkPartitionOption, workersCount } from '../src/model/partitioned-model.ts';
import { runModel } from '../src/model/run-model.ts';
import { testRuntime, uniqueId } from './support/runtime.ts';
import { Collector, newProbe, Tolerant } from './support/test-models.ts';

describe('PartitionedModel with the in-process dispatcher', () => {
  it('builds on the parent, slices by the worker count, and hands every subtask result to partition_subtask_complete once', async () => {
    const runtime = testRuntime();
    const model = new Collector(
      runtime.context('Collector', { taskId: 'abcde', resolver: { region: 'north' } }),
      {
        count: 5,
        workers: 3,
      },
    );

    const ok = await model.go();

    expect(ok).toBe(true);
    expect(model.calls).toEqual(['build', 'partition_slice(3)', 'partition_complete']);
    const byIndex = [...model.collected].sort(
      (a, b) => (a as { kwargs: { i: number } }).kwargs.i - (b as { kwargs: { i: number } }).kwargs.i,
    );
    expect(byIndex).toEqual(
      [0, 1, 2, 3, 4].map((i) => ({
        method: 'echo',
        kwargs: { i },
        value: {
          i,
          task: `abcde:${i}`,
          attempt: 1,
          region: 'north',
          initialised: 'partition_initialise({})',
        },
      })),
    );
    expect(model.stats.snapshot().counters).toEqual({ echoes: 5, 'subtasks.complete': 5 });
  });

  it('passes the resolver context to every subtask, as plain values that crossed a JSON boundary', async () => {
    const runtime = testRuntime();
    const model = new Collector(
      runtime.context('Collector', { resolver: { region: 'südwest', n: 3, on: true } }),
      {
        count: 2,
      },
    );

    await model.go();

    expect(model.collected.map((c) => (c as { value: { region: string } }).value.region)).toEqual([
      'südwest',
      'südwest',
    ]);
  });

  it('fails the parent with the failing subtask as failure_origin_task_id after one retry (PartialFailure)', async () => {
    const runtime = testRuntime();

    const { result, stats } = await runModel(runtime.environment, {
      taskId: 'abcde',
      spec: { model_class: 'PartialFailure' },
    });

    expect(result).toEqual({
      type: 'TaskFailed',
      payload: expect.objectContaining({
        model_class_name: 'PartialFailure',
        method_name: 'go',
        exception_class_name: "<class 'SubTaskFailedError'>",
        traceback: [],
        task_id: 'abcde',
        failure_origin_task_id: 'abcde:0',
      }),
    });
    const attempts = runtime.lines.filter((l) => l.taskId === 'abcde:0' && l.msg === 'task failed');
    expect(attempts.map((l) => [l.attempt, l.exception])).toEqual([
      [1, "<class 'ZeroDivisionError'>"],
      [2, "<class 'ZeroDivisionError'>"],
    ]);
    expect(stats.counters['subtasks.failed']).toBe(1);
  });

  it('retries a failed subtask once with the next attempt number, so SecondTimeLucky completes', async () => {
    const runtime = testRuntime();

    const { result } = await runModel(runtime.environment, {
      taskId: 'lucky',
      spec: { model_class: 'SecondTimeLucky' },
    });

    expect(result).toMatchObject({ type: 'TaskComplete', payload: { return_value: true } });
    const outcomes = runtime.lines
      .filter(
        (l) =>
          String(l.taskId).startsWith('lucky:') && (l.msg === 'task failed' || l.msg === 'task complete'),
      )
      .map((l) => `${l.taskId} ${l.attempt} ${l.msg}`)
      .sort();
    expect(outcomes).toEqual([
      'lucky:0 1 task failed',
      'lucky:0 2 task complete',
      'lucky:1 1 task failed',
      'lucky:1 2 task complete',
      'lucky:2 1 task failed',
      'lucky:2 2 task complete',
    ]);
  });

  it('does not retry when the policy allows one attempt', async () => {
    const runtime = testRuntime({ maxAttempts: 1 });

    const { result } = await runModel(runtime.environment, {
      taskId: 'once1',
      spec: { model_class: 'SecondTimeLucky' },
    });

    expect(result.payload).toMatchObject({ failure_origin_task_id: expect.stringMatching(/^once1:[012]$/) });
  });

  it('lets an overridden partition_subtask_failed carry on: the other subtasks still complete', async () => {
    const runtime = testRuntime();
    const model = new Tolerant(runtime.context('Tolerant', { taskId: 'toler' }), {});

    const ok = await model.go();

    expect(ok).toBe(true);
    expect(model.completed).toBe(2);
    expect(model.failures.map((f) => [f.task_id, f.method_kwargs, f.exception_class_name]).sort()).toEqual([
      ['toler:1', { i: 1 }, "<class 'Error'>"],
      ['toler:3', { i: 3 }, "<class 'Error'>"],
    ]);
  });

  it('runs at most the parent’s worker count of subtasks at once', async () => {
    const runtime = testRuntime();
    const id = uniqueId('p');
    const gated = newProbe(id);

    const running = runModel(runtime.environment, {
      taskId: 'bound',
      spec: { model_class: 'Holder', model_construction_kwargs: { probe: id, count: 6, workers: 2 } },
    });
    await vi.waitFor(() => expect(gated.running).toBe(2));
    await new Promise((resolve) => setTimeout(resolve, 20)); // time for a third to start, if it could
    const whileGated = gated.running;
    gated.open();
    const { result } = await running;

    expect(whileGated).toBe(2);
    expect(result.type).toBe('TaskComplete');
    expect(gated.maxRunning).toBe(2);
    expect(gated.finished).toHaveLength(6);
  });

  it('bounds all subtasks in the process by maxConcurrentSubtasks, across parents', async () => {
    const runtime = testRuntime({ maxConcurrentSubtasks: 3 });
    const id = uniqueId('p');
    const probe = newProbe(id);
    const spec = { model_class: 'Holder', model_construction_kwargs: { probe: id, count: 4, workers: 4 } };

    const runs = [
      runModel(runtime.environment, { taskId: 'par1', spec }),
      runModel(runtime.environment, { taskId: 'par2', spec }),
    ];
    await vi.waitFor(() => expect(probe.running).toBe(3));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const whileGated = probe.running;
    probe.open();
    const results = await Promise.all(runs);

    expect(whileGated).toBe(3);
    expect(results.map((r) => r.result.type)).toEqual(['TaskComplete', 'TaskComplete']);
    expect(probe.maxRunning).toBe(3);
    expect(runtime.dispatcher.capacity).toEqual({ size: 3, available: 3 });
  });

  it('cancels the unfinished subtasks when the parent fails, and waits for them to stop', async () => {
    const runtime = testRuntime();
    const id = uniqueId('p');
    const probe = newProbe(id);

    const { result } = await runModel(runtime.environment, {
      taskId: 'cancl',
      spec: {
        model_class: 'Holder',
        model_construction_kwargs: { probe: id, count: 4, workers: 4, fail_index: 0 },
      },
    });

    expect(result.payload).toMatchObject({ failure_origin_task_id: 'cancl:0' });
    expect(probe.running).toBe(0);
    expect(probe.finished).toEqual([]);
    expect(probe.aborted.sort()).toEqual(probe.started.sort());
    expect(probe.started.length).toBeGreaterThan(0);
  });

  it('rejects with AbortedError and stops every subtask when the parent’s signal aborts', async () => {
    const runtime = testRuntime();
    const id = uniqueId('p');
    const probe = newProbe(id);
    const controller = new AbortController();

    const running = runModel(runtime.environment, {
      taskId: 'abort',
      spec: { model_class: 'Holder', model_construction_kwargs: { probe: id, count: 3, workers: 3 } },
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(probe.running).toBe(3));
    controller.abort(new Error('SIGTERM'));

    await expect(running).rejects.toBeInstanceOf(AbortedError);
    expect(probe.running).toBe(0);
    expect(probe.aborted).toHaveLength(3);
  });

  it('fails an attempt that runs past the subtask timeout, retries it, then fails the parent', async () => {
    const clock = new ManualClock();
    const runtime = testRuntime({ clock, subtaskTimeoutMs: 60_000 });

    const running = runModel(runtime.environment, { taskId: 'slow1', spec: { model_class: 'Sleeper' } });
    let settled = false;
    void running.finally(() => {
      settled = true;
    });
    for (let i = 0; i < 10 && !settled; i++) await clock.advance(60_000);
    const { result } = await running;

    expect(result.payload).toMatchObject({ failure_origin_task_id: 'slow1:0' });
    const retried = runtime.lines.find((l) => l.msg === 'subtask failed; retrying');
    expect(retried).toMatchObject({ taskId: 'slow1:0', exception: "<class 'SubtaskTimeoutError'>" });
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('nested partitions', () => {
  it('runs a partitioned subtask’s own subtasks, with the resolver context at every depth, and sums their stats', async () => {
    const runtime = testRuntime();

    const { result, stats } = await runModel(runtime.environment, {
      taskId: 'abcde',
      spec: { model_class: 'Regions', resolver_context: { suffix: '!' } },
    });

    expect(result).toMatchObject({ type: 'TaskComplete', payload: { return_value: true } });
    expect(stats.counters).toEqual({ 'cities.visited': 5, 'subtasks.complete': 7 });
    const visits = runtime.lines
      .filter((l) => String(l.msg).startsWith('visited'))
      .map((l) => `${l.taskId} ${l.msg}`)
      .sort();
    expect(visits).toEqual([
      'abcde:0:0 visited a with suffix !',
      'abcde:0:1 visited b with suffix !',
      'abcde:0:2 visited c with suffix !',
      'abcde:1:0 visited d with suffix !',
      'abcde:1:1 visited e with suffix !',
    ]);
  });

  it('does not deadlock a one-slot pool: a waiting parent gives its slot to its subtasks', async () => {
    const runtime = testRuntime({ maxConcurrentSubtasks: 1 });

    const { result } = await runModel(runtime.environment, {
      taskId: 'tight',
      spec: { model_class: 'Regions' },
    });

    expect(result.type).toBe('TaskComplete');
    expect(runtime.dispatcher.capacity.available).toBe(1);
  });

  it('fails every ancestor with the deepest failing subtask as the origin', async () => {
    const runtime = testRuntime();

    const { result } = await runModel(runtime.environment, {
      taskId: 'deep1',
      spec: { model_class: 'Regions', model_construction_kwargs: { fail_city: 'e' } },
    });

    expect(result.payload).toMatchObject({
      exception_class_name: "<class 'SubTaskFailedError'>",
      failure_origin_task_id: 'deep1:1:1',
    });
    expect(runtime.lines).toContainEqual(
      expect.objectContaining({ taskId: 'deep1:1', msg: 'task failed', failureOrigin: 'deep1:1:1' }),
    );
  });
});

describe('partitioning rules', () => {
  it('computes workers as Aye-Aye does, never below the minimum', () => {
    expect(workersCount({ minimum: 1, maximum: 128, optimal: 16 }, 128)).toBe(16);
    expect(workersCount({ minimum: 1, maximum: 128, optimal: 16 }, 4)).toBe(4);
    expect(workersCount({ minimum: 1, maximum: 8, optimal: 8 }, 128)).toBe(8);
    expect(workersCount({ minimum: 12, maximum: 12, optimal: 12 }, 4)).toBe(12);
  });

  it('refuses a plea that is not positive integers with minimum ≤ optimal ≤ maximum', () => {
    expect(checkPartitionOption({ minimum: 1, maximum: 4, optimal: 2 }, 'M')).toEqual({
      minimum: 1,
      maximum: 4,
      optimal: 2,
    });
    expect(() => checkPartitionOption({ minimum: 0, maximum: 4, optimal: 2 }, 'M')).toThrow(
      InvalidPartitionError,
    );
    expect(() => checkPartitionOption({ minimum: 3, maximum: 1, optimal: 2 }, 'M')).toThrow(
      /minimum ≤ optimal ≤ maximum/,
    );
    expect(() => checkPartitionOption(undefined, 'M')).toThrow(InvalidPartitionError);
  });

  it.each([
    ['plea', /minimum ≤ optimal ≤ maximum/],
    ['method', /subtask 1: Method 'build' of model class 'BadPartition' cannot be called by name/],
    ['class', /subtask 0: Model class 'NotAccepted' is not in the list of accepted classes/],
    ['kwargs', /subtask 0: method_kwargs is not JSON/],
    ['unregistered', /subtask 0: Model class 'Unregistered' is not in the list of accepted classes/],
    ['null', /subtask 1: a subtask must be \[method, kwargs\] or a TaskPartition/],
  ])('fails the parent before dispatching anything when it partitions badly (%s)', async (mode, message) => {
    const runtime = testRuntime();

    const { result } = await runModel(runtime.environment, {
      taskId: 'bad01',
      spec: { model_class: 'BadPartition', model_construction_kwargs: { mode } },
    });

    expect(result.payload).toMatchObject({ exception_class_name: "<class 'InvalidPartitionError'>" });
    if (result.type !== 'TaskFailed') throw new Error('unreachable');
    expect(result.payload.traceback[0]).toMatch(message);
    expect(runtime.lines.some((l) => String(l.taskId).startsWith('bad01:'))).toBe(false);
  });

  it('refuses a malformed dispatch request', async () => {
    const runtime = testRuntime();
    const run = runtime.dispatcher.run(
      { parentTaskId: 'x', subtasks: [], concurrency: 0 },
      new AbortController().signal,
    );

    await expect(run.next()).rejects.toThrow(ValidationError);
  });
});
