import { ValidationError } from '@spotjobs/core';
import { ManualClock } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import type { ModelLogLevel } from '../src/model/model-log.ts';
import { ModelStats } from '../src/model/model-stats.ts';
import { testRuntime } from './support/runtime.ts';
import { Lifecycle } from './support/test-models.ts';

describe('Model.go lifecycle', () => {
  it('runs pre_build_check, build, post_build_check in that order, answers true and logs each statistic', async () => {
    const runtime = testRuntime();
    const model = new Lifecycle(runtime.context('Lifecycle', { taskId: 'lcyc1' }), {});

    const ok = await model.go();

    expect(ok).toBe(true);
    expect(model.calls).toEqual(['pre_build_check', 'build', 'post_build_check']);
    expect(runtime.lines).toContainEqual(
      expect.objectContaining({
        level: 'info',
        modelLevel: 'INFO',
        taskId: 'lcyc1',
        msg: 'Statistic: rows = 3',
      }),
    );
  });

  it('stops before build when the pre-build check fails, logs it as an ERROR and answers false', async () => {
    const runtime = testRuntime();
    const model = new Lifecycle(runtime.context('Lifecycle', { taskId: 'lcyc2' }), { pre: false });

    const ok = await model.go();

    expect(ok).toBe(false);
    expect(model.calls).toEqual(['pre_build_check']);
    expect(runtime.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        modelLevel: 'ERROR',
        taskId: 'lcyc2',
        msg: 'Pre-build check failed',
      }),
    );
    expect(runtime.lines.some((line) => String(line.msg).startsWith('Statistic'))).toBe(false);
  });

  it('runs the post-build check after build, and answers false when it fails', async () => {
    const runtime = testRuntime();
    const model = new Lifecycle(runtime.context('Lifecycle', { taskId: 'lcyc3' }), { post: false });

    const ok = await model.go();

    expect(ok).toBe(false);
    expect(model.calls).toEqual(['pre_build_check', 'build', 'post_build_check']);
    expect(runtime.lines).toContainEqual(
      expect.objectContaining({ level: 'error', msg: 'Post-build check failed' }),
    );
  });

  it('lets an error thrown by build reject go, without running the post-build check', async () => {
    const runtime = testRuntime();
    const model = new Lifecycle(runtime.context('Lifecycle'), { fail: 'build' });

    await expect(model.go()).rejects.toThrow(TypeError);
    expect(model.calls).toEqual(['pre_build_check', 'build']);
  });
});

describe('Model logging', () => {
  it("maps Aye-Aye's levels onto the logger's, keeps the Aye-Aye level and binds the task id and class", () => {
    const runtime = testRuntime();
    const model = new Lifecycle(runtime.context('Lifecycle', { taskId: 'logs1' }), {});
    const levels: [ModelLogLevel, string][] = [
      ['DEBUG', 'debug'],
      ['PROGRESS', 'info'],
      ['INFO', 'info'],
      ['WARNING', 'warn'],
      ['ERROR', 'error'],
      ['CRITICAL', 'fatal'],
    ];

    for (const [level] of levels) model.log(`at ${level}`, level);
    model.log('default level');

    expect(runtime.lines.map((l) => [l.modelLevel, l.level])).toEqual([...levels, ['INFO', 'info']]);
    expect(runtime.lines.every((l) => l.taskId === 'logs1' && l.modelClass === 'Lifecycle')).toBe(true);
  });

  it('refuses an unknown level', () => {
    const model = new Lifecycle(testRuntime().context('Lifecycle'), {});

    expect(() => model.log('x', 'LOUD' as ModelLogLevel)).toThrow(ValidationError);
  });

  it('log_progress logs a PROGRESS line with the seconds remaining, at most once per interval', async () => {
    const clock = new ManualClock();
    const runtime = testRuntime({ clock });
    const model = new Lifecycle(runtime.context('Lifecycle'), {});
    model.start_build_time = clock.monotonic();

    await clock.advance(10_000);
    model.log_progress(0.5, 'halfway');
    await clock.advance(5_000);
    model.log_progress(0.6); // within 20 s of the last line: silent
    await clock.advance(16_000);
    model.log_progress(0.75);
    model.log_progress(0); // no position: silent

    const progress = runtime.lines.filter((l) => l.modelLevel === 'PROGRESS').map((l) => l.msg);
    expect(progress).toEqual(['50.00% 10.00 seconds remaining. halfway', '75.00% 10.33 seconds remaining. ']);
  });
});

describe('ModelStats', () => {
  it('counts, times on the monotonic clock, merges snapshots and describes itself', async () => {
    const clock = new ManualClock();
    const stats = new ModelStats(clock);

    stats.count('rows');
    stats.count('rows', 4);
    const timed = stats.time('load', async () => {
      await clock.sleep(30);
      return 'loaded';
    });
    await clock.advance(30);
    const stop = stats.startTimer('load');
    await clock.advance(10);
    expect(stop()).toBe(10);
    stop(); // a second stop records nothing
    stats.merge({
      counters: { rows: 2, subtasks: 1 },
      timers: { load: { count: 1, total_ms: 50, max_ms: 50 } },
    });

    expect(await timed).toBe('loaded');
    expect(stats.snapshot()).toEqual({
      counters: { rows: 7, subtasks: 1 },
      timers: { load: { count: 3, total_ms: 90, max_ms: 50 } },
    });
    expect(stats.describe()).toEqual(['rows = 7', 'subtasks = 1', 'load = 3 × 30.0 ms (max 50.0 ms)']);
  });

  it('records a timer when the timed function throws, and refuses bad names and counts', async () => {
    const stats = new ModelStats(new ManualClock());

    await expect(stats.time('fails', () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(() => stats.count('has space')).toThrow(ValidationError);
    expect(() => stats.count('rows', Number.NaN)).toThrow(ValidationError);
    expect(stats.snapshot().timers.fails?.count).toBe(1);
  });
});
