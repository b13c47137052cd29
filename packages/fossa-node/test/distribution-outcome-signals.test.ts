import { AbortedError } from '@spotjobs/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutcomeSignals } from '../src/distribution/outcome-signals.ts';
import { indexOfSortKey, TaskKeys } from '../src/distribution/task-records.ts';

describe('OutcomeSignals', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('wakes the waiters of one parent only', async () => {
    const signals = new OutcomeSignals();
    const signal = new AbortController().signal;
    const mine = signals.wait('abcde', 10_000, signal);
    const other = signals.wait('fghij', 10_000, signal);
    signals.notify('abcde');
    expect(await mine).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await other).toBe(false);
  });

  it('answers false after the poll interval when nobody notifies', async () => {
    const signals = new OutcomeSignals();
    const waiting = signals.wait('abcde', 200, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(200);
    expect(await waiting).toBe(false);
    signals.notify('abcde'); // no waiter left: nothing happens
  });

  it('rejects with AbortedError when the signal aborts, and at once when it already has', async () => {
    const signals = new OutcomeSignals();
    const controller = new AbortController();
    const waiting = signals.wait('abcde', 10_000, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    await expect(signals.wait('abcde', 10, controller.signal)).rejects.toBeInstanceOf(AbortedError);
  });
});

describe('task record keys', () => {
  it('sort subtask outcomes by index and listings by time, then id', () => {
    expect(TaskKeys.outcome('abcde', 12)).toEqual({ pk: 'task#abcde', sk: 'sub#00012' });
    expect(indexOfSortKey(TaskKeys.outcome('abcde', 12).sk)).toBe(12);
    expect(indexOfSortKey(TaskKeys.sent('abcde', 3).sk)).toBe(3);
    const earlier = TaskKeys.listingSk(9_000, 'zzzzz');
    const later = TaskKeys.listingSk(10_000, 'aaaaa');
    expect(earlier < later).toBe(true);
    expect(TaskKeys.listing('finished', 'node-a')).toBe('finished#node-a');
  });
});
