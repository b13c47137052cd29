import { describe, expect, it } from 'vitest';
import type { LeaseExtension, LeaseResult } from '../src/ports/queue.ts';
import { LeaseKeeper, type LeaseLossReason } from '../src/runner/lease-keeper.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';

function setup(answer: (entries: readonly LeaseExtension[]) => Promise<LeaseResult[]> = ok) {
  const clock = new ManualClock();
  const calls: LeaseExtension[][] = [];
  const lost: [string, LeaseLossReason][] = [];
  const errors: Error[] = [];
  const keeper = new LeaseKeeper({
    queue: {
      extend: (entries) => {
        calls.push([...entries]);
        return answer(entries);
      },
    },
    clock,
    visibilitySeconds: 30,
    intervalMs: 5_000,
    thresholdMs: 15_000,
    signal: new AbortController().signal,
    onLost: (lease, reason) => lost.push([lease, reason]),
    onError: (error) => errors.push(error),
  });
  keeper.start();
  return { clock, calls, lost, errors, keeper };
}

async function ok(entries: readonly LeaseExtension[]): Promise<LeaseResult[]> {
  return entries.map((e) => ({ lease: e.lease, ok: true }));
}

describe('LeaseKeeper', () => {
  it('extends only leases within the threshold, all in one call per tick', async () => {
    const { clock, calls, keeper } = setup();
    keeper.track('a');
    await clock.advance(10_000);
    keeper.track('b'); // 20 s younger
    await clock.advance(5_000); // a has 15 s left: due; b has 25 s
    expect(calls).toEqual([[{ lease: 'a', visibilitySeconds: 30 }]]);
    await clock.advance(20_000); // b due at 25 s; a again 15 s after its extension at 15 s
    expect(calls.slice(1)).toEqual([
      [{ lease: 'b', visibilitySeconds: 30 }],
      [{ lease: 'a', visibilitySeconds: 30 }],
    ]);
    await keeper.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('batches many due leases into one call', async () => {
    const { clock, calls, keeper } = setup();
    for (let i = 0; i < 64; i++) keeper.track(`l${i}`);
    await clock.advance(15_000);
    expect(calls.map((c) => c.length)).toEqual([64]);
    await keeper.stop();
  });

  it('reports stale leases lost and stops extending them', async () => {
    const { clock, calls, lost, keeper } = setup(async (entries) =>
      entries.map((e) =>
        e.lease === 'gone' ? { lease: e.lease, ok: false, reason: 'stale' } : { lease: e.lease, ok: true },
      ),
    );
    keeper.track('gone');
    keeper.track('kept');
    await clock.advance(15_000);
    expect(lost).toEqual([['gone', 'stale']]);
    expect(keeper.has('gone')).toBe(false);
    await clock.advance(15_000);
    expect(calls.at(-1)).toEqual([{ lease: 'kept', visibilitySeconds: 30 }]);
    await keeper.stop();
  });

  it('ignores answers for leases untracked while the call was in flight', async () => {
    let answer: (results: LeaseResult[]) => void = () => {};
    const { clock, lost, keeper } = setup(
      () =>
        new Promise((resolve) => {
          answer = resolve;
        }),
    );
    keeper.track('done');
    await clock.advance(15_000);
    keeper.untrack('done'); // the job finished and was acked meanwhile
    answer([{ lease: 'done', ok: false, reason: 'stale' }]);
    await clock.advance(0);
    expect(lost).toEqual([]);
    await keeper.stop();
  });

  it('loses a lease whose extensions keep failing once it has expired', async () => {
    const { clock, lost, errors, keeper } = setup(() => Promise.reject(new Error('network down')));
    keeper.track('a');
    await clock.advance(25_000);
    expect(errors.length).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    await clock.advance(5_000);
    expect(lost).toEqual([['a', 'expired']]);
    await keeper.stop();
  });

  it('loses a lease at once when the wall clock jumped past its expiry (hibernation)', async () => {
    const { clock, calls, lost, keeper } = setup();
    keeper.track('a');
    clock.jumpWallClock(31_000);
    await clock.advance(5_000);
    expect(lost).toEqual([['a', 'expired']]);
    expect(calls).toEqual([]);
    await keeper.stop();
  });

  it('never asks past the 12-hour visibility ceiling, and gives the lease up a threshold before it', async () => {
    const { clock, calls, lost, keeper } = setup();
    keeper.track('long');
    await clock.advance(43_200_000 - 30_000);
    expect(lost).toEqual([]);
    await clock.advance(15_000);
    expect(lost).toEqual([['long', 'ceiling']]);
    const asked = calls.flat().map((c) => c.visibilitySeconds);
    expect(asked.at(-1)).toBeLessThan(30); // capped: receive + 12 h - 1 s at most
    expect(asked.every((s) => s >= 1 && s <= 30)).toBe(true);
    await keeper.stop();
  });
});
