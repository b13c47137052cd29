import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../src/errors.ts';
import { aborted, deferred, singleHarness } from './support/runner-harness.ts';

// node-cron schedules with the real setTimeout and Date; vitest's fake timers drive it.
// The runner itself runs on its ManualClock, untouched by these fakes.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.UTC(2026, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

const job = { schema: z.object({}), handle: () => {} };

describe('Runner.schedule', () => {
  it('never overlaps runs of one task: ticks during a run are skipped', async () => {
    const h = await singleHarness({ job });
    const first = deferred();
    let runs = 0;
    h.runner.schedule('sweep', '* * * * * *', async () => {
      runs++;
      if (runs === 1) await first.promise;
    });
    h.running = h.runner.run();
    await vi.advanceTimersByTimeAsync(5_500);
    expect(runs).toBe(1);
    expect(h.of('task:ran')).toEqual([]);
    first.resolve();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(runs).toBeLessThanOrEqual(4);
    expect(h.of('task:ran').every((r) => r.name === 'sweep' && r.error === undefined)).toBe(true);
    await h.runner.stop();
  });

  it('catches errors and reports them through task:ran, and keeps the schedule', async () => {
    const h = await singleHarness({ job });
    let runs = 0;
    h.runner.schedule('flaky', '* * * * * *', async () => {
      runs++;
      if (runs === 1) throw new Error('db down');
    });
    h.running = h.runner.run();
    await vi.advanceTimersByTimeAsync(2_500);
    const ran = h.of('task:ran');
    expect(ran[0]).toMatchObject({ name: 'flaky', error: { message: 'db down' } });
    expect(ran[1]).toMatchObject({ name: 'flaky' });
    expect(ran[1]?.error).toBeUndefined();
    expect(h.logs.some((l) => l.level === 'warn' && l.task === 'flaky' && l.msg === 'task failed')).toBe(
      true,
    );
    await h.runner.stop();
  });

  it('runs nothing before run() and aborts a running task on stop, then never runs again', async () => {
    const h = await singleHarness({ job });
    let runs = 0;
    let abortReason: unknown;
    h.runner.schedule('long', '* * * * * *', async (signal) => {
      runs++;
      abortReason = await aborted(signal);
    });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(runs).toBe(0);
    h.running = h.runner.run();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(runs).toBe(1);
    await h.runner.stop();
    expect(abortReason).toBeInstanceOf(Error);
    expect(h.of('task:ran')).toMatchObject([{ name: 'long' }]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(runs).toBe(1);
  });

  it('rejects bad expressions, duplicate names and scheduling on a stopped runner', async () => {
    const h = await singleHarness({ job });
    expect(() => h.runner.schedule('bad', 'every minute', async () => {})).toThrow(ValidationError);
    h.runner.schedule('once', '0 * * * *', async () => {});
    expect(() => h.runner.schedule('once', '0 * * * *', async () => {})).toThrow(/already scheduled/);
    await h.runner.stop();
    expect(() => h.runner.schedule('late', '0 * * * *', async () => {})).toThrow(ValidationError);
  });
});
