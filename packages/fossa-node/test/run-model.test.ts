import { AbortedError } from '@spotjobs/core';
import { ManualClock } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import { runModel } from '../src/model/run-model.ts';
import { testRuntime } from './support/runtime.ts';

describe('runModel', () => {
  it('runs go and answers a TaskComplete in Fossa shape, with the stats', async () => {
    const runtime = testRuntime();

    const run = await runModel(runtime.environment, { taskId: 'abcde', spec: { model_class: 'Lifecycle' } });

    expect(run.result).toEqual({
      type: 'TaskComplete',
      payload: { method_name: 'go', method_kwargs: {}, return_value: true },
    });
    expect(run.stats).toEqual({ counters: { rows: 3 }, timers: {} });
    expect(runtime.lines).toContainEqual(
      expect.objectContaining({ level: 'info', msg: 'task complete', taskId: 'abcde', attempt: 1 }),
    );
  });

  it('reports a failed check as complete with return_value false, as Fossa does', async () => {
    const runtime = testRuntime();

    const { result } = await runModel(runtime.environment, {
      taskId: 'abcde',
      spec: { model_class: 'Lifecycle', model_construction_kwargs: { pre: false } },
    });

    expect(result).toMatchObject({ type: 'TaskComplete', payload: { return_value: false } });
  });

  it('turns a model error into a TaskFailed naming the class Python-style, with the traceback and the spec', async () => {
    const runtime = testRuntime();
    const spec = {
      model_class: 'Lifecycle',
      model_construction_kwargs: { fail: 'build' },
      resolver_context: { region: 'north' },
    };

    const { result, stats } = await runModel(runtime.environment, { taskId: 'fails', spec });

    expect(result.type).toBe('TaskFailed');
    expect(result.payload).toMatchObject({
      model_class_name: 'Lifecycle',
      model_construction_kwargs: { fail: 'build' },
      partition_initialise_kwargs: {},
      method_name: 'go',
      method_kwargs: {},
      resolver_context: { region: 'north' },
      exception_class_name: "<class 'TypeError'>",
      task_id: 'fails',
      failure_origin_task_id: null,
    });
    if (result.type !== 'TaskFailed') throw new Error('unreachable');
    expect(result.payload.traceback[0]).toBe('TypeError: build broke');
    expect(result.payload.traceback.slice(1).every((line) => line.startsWith('at '))).toBe(true);
    expect(stats.counters).toEqual({ rows: 3 }); // what it recorded before failing
    expect(runtime.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'task failed', exception: "<class 'TypeError'>" }),
    );
  });

  it('fails a task of a class not on the allow-list with UnknownModelClassError and never throws', async () => {
    const runtime = testRuntime();

    const { result } = await runModel(runtime.environment, {
      taskId: 'nope1',
      spec: { model_class: 'EvilEtl' },
    });

    expect(result.payload).toMatchObject({
      model_class_name: 'EvilEtl',
      exception_class_name: "<class 'UnknownModelClassError'>",
    });
    if (result.type !== 'TaskFailed') throw new Error('unreachable');
    expect(result.payload.traceback[0]).toBe(
      "UnknownModelClassError: Model class 'EvilEtl' is not in the list of accepted classes.",
    );
  });

  it.each([['hidden'], ['constructor'], ['close_datasets'], ['build']])(
    'refuses to call %s, which the class does not list as callable',
    async (method) => {
      const runtime = testRuntime();

      const { result } = await runModel(runtime.environment, {
        taskId: 'meth1',
        spec: { model_class: 'Awkward', method },
      });

      expect(result.payload).toMatchObject({
        exception_class_name: "<class 'MethodNotAllowedError'>",
        method_name: method,
      });
    },
  );

  it.each([
    [null, 'the task spec must be a JSON object'],
    [{}, "'model_class' is a mandatory field"],
    [{ model_class: 'Lifecycle', method: 'go; rm -rf /' }, "'method' must be an identifier"],
    [
      { model_class: 'Lifecycle', resolver_context: { a: { nested: true } } },
      'must be a string, a finite number or a boolean',
    ],
  ])('fails a malformed spec %j with InvalidTaskSpecError', async (spec, issue) => {
    const runtime = testRuntime();

    const { result } = await runModel(runtime.environment, { taskId: 'spec1', spec });

    expect(result.payload).toMatchObject({
      exception_class_name: "<class 'InvalidTaskSpecError'>",
      task_id: 'spec1',
    });
    if (result.type !== 'TaskFailed') throw new Error('unreachable');
    expect(result.payload.traceback[0]).toContain(issue);
  });

  it('passes method_kwargs to the method and answers its return value as wire JSON', async () => {
    const runtime = testRuntime();
    const run = (method: string, method_kwargs = {}) =>
      runModel(runtime.environment, {
        taskId: 'json1',
        spec: { model_class: 'Awkward', method, method_kwargs },
      });

    expect((await run('pair', { a: 'x' })).result.payload).toEqual({
      method_name: 'pair',
      method_kwargs: { a: 'x' },
      return_value: ['x', 2],
    });
    expect((await run('nothing')).result.payload).toMatchObject({ return_value: null });
    expect((await run('big')).result.payload).toMatchObject({
      exception_class_name: "<class 'ValidationError'>",
    });
  });

  it('validates example model kwargs and reports bad ones as a failure', async () => {
    const runtime = testRuntime();

    const { result } = await runModel(runtime.environment, {
      taskId: 'kw1',
      spec: { model_class: 'LongRunningEtl', model_construction_kwargs: { loops: -1 } },
    });

    expect(result.payload).toMatchObject({ exception_class_name: "<class 'ValidationError'>" });
  });

  it('rejects with AbortedError (interrupted, not failed) when its signal aborts mid-run', async () => {
    const clock = new ManualClock();
    const runtime = testRuntime({ clock });
    const controller = new AbortController();

    const running = runModel(runtime.environment, {
      taskId: 'long1',
      spec: { model_class: 'LongRunningEtl' },
      signal: controller.signal,
    });
    await clock.advance(25_000); // three loops in
    controller.abort(new Error('node shutting down'));

    await expect(running).rejects.toBeInstanceOf(AbortedError);
    expect(runtime.lines.filter((l) => String(l.msg).startsWith('Loop ')).map((l) => l.msg)).toEqual([
      'Loop 0 of 60',
      'Loop 1 of 60',
      'Loop 2 of 60',
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with AbortedError without running anything when the signal is already aborted', async () => {
    const runtime = testRuntime();

    await expect(
      runModel(runtime.environment, {
        taskId: 'pre1',
        spec: { model_class: 'Lifecycle' },
        signal: AbortSignal.abort(),
      }),
    ).rejects.toBeInstanceOf(AbortedError);
    expect(runtime.lines).toEqual([]);
  });
});
