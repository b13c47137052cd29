import { createHash } from 'node:crypto';
import { ManualClock } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import { cryptoChallenge } from '../src/examples/partitioned-example-etl.ts';
import { runModel } from '../src/model/run-model.ts';
import { testRuntime } from './support/runtime.ts';

/** Fossa's loop, literally: hash every string of `ch` from the empty one up. */
function naiveChallenge(ch: string, count: number): number {
  for (let s = ''; ; s += ch) {
    if (createHash('md5').update(s).digest('hex').startsWith(ch.repeat(count))) return s.length;
  }
}

describe("Fossa's example models", () => {
  it('NothingEtl runs to complete', async () => {
    const { result } = await runModel(testRuntime().environment, {
      taskId: 'noth1',
      spec: { model_class: 'NothingEtl' },
    });

    expect(result).toEqual({
      type: 'TaskComplete',
      payload: { method_name: 'go', method_kwargs: {}, return_value: true },
    });
  });

  it('DatasetCopyEtl fails naming the kwarg when input or output is not a URI', async () => {
    const { result } = await runModel(testRuntime().environment, {
      taskId: 'copy1',
      spec: { model_class: 'DatasetCopyEtl', model_construction_kwargs: { input: 'in.ndjson', output: 7 } },
    });

    expect(result.type).toBe('TaskFailed');
    expect(JSON.stringify(result.payload)).toContain('output must be a dataset URI');
  });

  it('cryptoChallenge answers what hashing every string answers (27 for a × 3, as Fossa’s docstring says)', () => {
    expect(cryptoChallenge('a', 3)).toBe(27);
    for (const ch of '0123456789abcdef') expect(cryptoChallenge(ch, 2)).toBe(naiveChallenge(ch, 2));
    expect(cryptoChallenge('d', 1)).toBe(0); // md5('') starts with d
    expect(() => cryptoChallenge('g', 1)).toThrow(RangeError);
  });

  it('PartitionedExampleEtl runs 16 crypto challenges and logs each result on the parent', async () => {
    const runtime = testRuntime();

    const { result, stats } = await runModel(runtime.environment, {
      taskId: 'crypt',
      spec: { model_class: 'PartitionedExampleEtl', model_construction_kwargs: { complexity: 2 } },
    });

    expect(result.type).toBe('TaskComplete');
    expect(stats.counters['subtasks.complete']).toBe(16);
    const logged = runtime.lines.filter(
      (l) => l.taskId === 'crypt' && String(l.msg).startsWith('Subtask results are'),
    );
    expect(logged).toHaveLength(16);
    expect(logged.map((l) => l.msg)).toContain(
      `Subtask results are: {"ch":"a","count":2}, ["a",${naiveChallenge('a', 2)}]`,
    );
  });

  it('HalfSecondEtl logs, waits half a second on the clock, and logs again', async () => {
    const clock = new ManualClock();
    const runtime = testRuntime({ clock });

    const running = runModel(runtime.environment, {
      taskId: 'half1',
      spec: { model_class: 'HalfSecondEtl' },
    });
    await clock.advance(499);
    const before = runtime.lines.map((l) => l.msg);
    await clock.advance(1);
    const { result } = await running;

    expect(before).toEqual(['Running HalfSecondEtl...']);
    expect(result.type).toBe('TaskComplete');
    expect(runtime.lines.map((l) => l.msg)).toContain('Finishing HalfSecondEtl...');
  });

  it('LongRunningEtl loops as its kwargs say, logging each loop', async () => {
    const runtime = testRuntime();

    const { result } = await runModel(runtime.environment, {
      taskId: 'long2',
      spec: { model_class: 'LongRunningEtl', model_construction_kwargs: { loops: 3, loop_seconds: 0 } },
    });

    expect(result.type).toBe('TaskComplete');
    expect(runtime.lines.filter((l) => String(l.msg).startsWith('Loop')).map((l) => l.msg)).toEqual([
      'Loop 0 of 3',
      'Loop 1 of 3',
      'Loop 2 of 3',
    ]);
  });

  it.each([
    [{}, 400],
    [{ sleep_seconds: 0.1 }, 100],
  ])(
    'StaggeredEtl (kwargs %j) runs its 12 subtasks exactly requested_workers at a time',
    async (kwargs, stepMs) => {
      const clock = new ManualClock();
      const runtime = testRuntime({ clock, maxConcurrentSubtasks: 16 });

      const running = runModel(runtime.environment, {
        taskId: 'stag1',
        spec: {
          model_class: 'StaggeredEtl',
          model_construction_kwargs: kwargs,
          resolver_context: { requested_workers: 5 },
        },
      });
      const completedPerStep: number[] = [];
      let done = false;
      void running.finally(() => {
        done = true;
      });
      while (!done) {
        const before = runtime.lines.filter((l) => l.msg === 'task complete').length;
        await clock.advance(stepMs);
        completedPerStep.push(runtime.lines.filter((l) => l.msg === 'task complete').length - before);
      }
      const { result, stats } = await running;

      expect(result.type).toBe('TaskComplete');
      // Subtasks complete in waves of 5, 5 and 2; the parent completes in the last step too.
      expect(completedPerStep).toEqual([5, 5, 3]);
      expect(stats.timers.some_work).toEqual({ count: 12, total_ms: 12 * stepMs, max_ms: stepMs });
    },
  );

  it('StaggeredEtl fails clearly when requested_workers is missing or not a count', async () => {
    const runtime = testRuntime();
    const run = (resolver_context: Record<string, string | number>) =>
      runModel(runtime.environment, {
        taskId: 'stag2',
        spec: { model_class: 'StaggeredEtl', resolver_context },
      });

    expect((await run({})).result.payload).toMatchObject({
      exception_class_name: "<class 'UnresolvedTemplateError'>",
    });
    expect((await run({ requested_workers: 'lots' })).result.payload).toMatchObject({
      exception_class_name: "<class 'ValidationError'>",
    });
  });
});
