import { describe, expect, it } from 'vitest';
import type { LeaseExtension, LeaseResult } from '../src/ports/queue.ts';
import { LeaseKeeper, type LeaseLossReason } from '../src/runner/lease-keeper.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';

function setup(answer: (entries: readonly LeaseExtension[]) => Promise<LeaseResult[]> = ok) {
  const clock = new ManualClock();
  const calls: LeaseExtension[][] = [];
  const lost: [string, LeaseLossReason][] = [];
  const errors: Error[] = [];
  const jumps: number[] = [];
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
    onClockJump: (awayMs) => jumps.push(awayMs),
  });
  keeper.start();
  return { clock, calls, lost, errors, jumps, keeper };
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

  it('confirms a healthy lease at once, without a call', async () => {
    const { calls, keeper } = setup();
    keeper.track('a');
    expect(await keeper.confirm('a')).toBe(true);
    expect(await keeper.confirm('unknown')).toBe(false);
    expect(calls).toEqual([]);
    await keeper.stop();
  });

  it('checks a lease close to expiry with one extension before confirming it; gates in the same turn share the call', async () => {
    let answer: () => void = () => {};
    const { clock, calls, keeper } = setup(
      (entries) =>
        new Promise((resolve) => {
          answer = () => resolve(entries.map((e) => ({ lease: e.lease, ok: true })));
        }),
    );
    keeper.track('a');
    keeper.track('b');
    await keeper.stop(); // no ticks: let the leases age
    await clock.advance(29_500);
    const confirmed = Promise.all([keeper.confirm('a'), keeper.confirm('b')]);
    await clock.advance(0);
    expect(calls).toEqual([
      [
        { lease: 'a', visibilitySeconds: 30 },
        { lease: 'b', visibilitySeconds: 30 },
      ],
    ]);
    answer();
    expect(await confirmed).toEqual([true, true]);
    await clock.advance(1_000);
    expect(await keeper.confirm('a')).toBe(true); // extended: healthy again
  });

  it('after revalidate(), gates wait for an answer to a call sent after the doubt; an older answer proves nothing', async () => {
    const answers: (() => void)[] = [];
    const { clock, keeper } = setup(
      (entries) =>
        new Promise((resolve) => {
          answers.push(() => resolve(entries.map((e) => ({ lease: e.lease, ok: true }))));
        }),
    );
    keeper.track('a');
    await clock.advance(15_000); // the heartbeat's call goes out and hangs (the host froze)
    expect(answers).toHaveLength(1);
    const revalidated = keeper.revalidate();
    let owned: boolean | undefined;
    void keeper.confirm('a').then((o) => {
      owned = o;
    });
    answers[0]!(); // the pre-freeze call answers
    await clock.advance(0);
    expect(owned).toBeUndefined();
    expect(keeper.doubtful).toBe(1);
    answers[1]!(); // the re-validation answers
    expect(await revalidated).toEqual({ checked: 1, lost: 0, unconfirmed: 0 });
    await clock.advance(0);
    expect(owned).toBe(true);
    expect(keeper.doubtful).toBe(0);
    await keeper.stop();
  });

  it('answers false to waiting gates when the re-validation finds the lease stale', async () => {
    const { lost, keeper } = setup(async (entries) =>
      entries.map((e) => ({ lease: e.lease, ok: false as const, reason: 'stale' as const })),
    );
    keeper.track('a');
    const check = keeper.revalidate();
    const owned = keeper.confirm('a');
    expect(await check).toEqual({ checked: 1, lost: 1, unconfirmed: 0 });
    expect(await owned).toBe(false);
    expect(lost).toEqual([['a', 'stale']]);
    await keeper.stop();
  });

  it('keeps a lease in doubt while re-validation calls fail, retrying on every tick, until it expires', async () => {
    let fail = true;
    const { clock, calls, lost, keeper } = setup(async (entries) => {
      if (fail) throw new Error('network down');
      return entries.map((e) => ({ lease: e.lease, ok: true }));
    });
    keeper.track('a');
    expect(await keeper.revalidate()).toEqual({ checked: 1, lost: 0, unconfirmed: 1 });
    await clock.advance(5_000);
    expect(calls).toHaveLength(2); // retried at the next tick although not near expiry
    fail = false;
    await clock.advance(5_000);
    expect(keeper.doubtful).toBe(0);
    expect(lost).toEqual([]);
    await keeper.stop();
  });

  it('holds every lease in one call, capped by the 12-hour ceiling per lease', async () => {
    const { clock, calls, keeper } = setup();
    keeper.track('old');
    await clock.advance(43_200_000 - 3_600_000); // 11 h in (heartbeats kept it)
    keeper.track('new');
    calls.length = 0;
    expect(await keeper.hold(7_200)).toEqual({ checked: 2, lost: 0, unconfirmed: 0 });
    expect(calls).toEqual([
      [
        { lease: 'old', visibilitySeconds: 3_599 },
        { lease: 'new', visibilitySeconds: 7_200 },
      ],
    ]);
    await clock.advance(3_000_000); // 50 min: no heartbeat needed for the held lease
    expect(
      calls
        .slice(1)
        .flat()
        .map((c) => c.lease),
    ).not.toContain('new');
    await keeper.stop();
  });

  it('reports the wall clock jumping ahead of the monotonic clock', async () => {
    const { clock, jumps, keeper } = setup();
    await clock.advance(5_000);
    clock.jumpWallClock(1_000); // an NTP step: ignored
    await clock.advance(5_000);
    clock.jumpWallClock(60_000);
    await clock.advance(5_000);
    expect(jumps).toEqual([60_000]);
    await keeper.stop();
  });
});
