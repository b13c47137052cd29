import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InterruptedError, LeaseLostError } from '../src/errors.ts';
import type { LeaseExtension, LeaseResult } from '../src/ports/queue.ts';
import type { JobContext } from '../src/runner/job-definition.ts';
import { aborted, deferred, singleHarness } from './support/runner-harness.ts';
import { TestInterruptionSource } from './support/test-interruption-source.ts';

const job = z.object({ n: z.number() });

/** What a handler saw when it was interrupted. */
interface Seen {
  readonly n: number;
  readonly reason: unknown;
  readonly deadline: number | undefined;
  readonly at: number;
}

/**
 * A handler that works until aborted, records what it saw (and when, once `clock.now` is
 * bound to the harness's clock), and throws the abort reason.
 */
function untilAborted(seen: Seen[], clock: { now: () => number }) {
  return async (value: { n: number }, ctx: JobContext): Promise<never> => {
    const reason = await aborted(ctx.signal);
    seen.push({ n: value.n, reason, deadline: ctx.deadline, at: clock.now() });
    throw reason;
  };
}

describe('Runner interruptions: terminate and stop', () => {
  it('watches its sources only while it runs', async () => {
    const source = new TestInterruptionSource();
    const h = await singleHarness({
      interruptions: { sources: [source] },
      job: { schema: job, handle: () => {} },
    });
    expect(source.watching).toBe(false);
    h.running = h.runner.run();
    expect(source.watching).toBe(true);
    await h.runner.stop();
    expect(source.watching).toBe(false);
  });

  it('on a terminate notice stops polling, interrupts every job with ctx.deadline, releases them before the deadline minus the margin, and stops', async () => {
    const source = new TestInterruptionSource('imds');
    const seen: Seen[] = [];
    const clock = { now: () => 0 };
    const h = await singleHarness({
      concurrency: 4,
      abortGraceMs: 5_000,
      interruptions: { sources: [source], releaseMarginMs: 5_000 },
      job: { schema: job, handle: (value, ctx) => untilAborted(seen, clock)(value, ctx) },
    });
    clock.now = () => h.clock.now();
    const ids = await h.queue.sendBodies([{ n: 1 }, { n: 2 }, { n: 3 }]);
    h.running = h.runner.run();
    await h.clock.advance(1_000);
    expect(h.of('job:started')).toHaveLength(3);
    const receives = h.queue.count('receive');

    const noticeAt = h.clock.now() + 120_000;
    const handled = source.emit({ kind: 'terminate', at: noticeAt });
    await h.settle();
    await h.queue.sendBodies([{ n: 4 }]); // arrives after the notice: never taken
    await handled;
    await h.running;

    expect(h.runner.state).toBe('STOPPED');
    expect(seen.map((s) => s.n).sort()).toEqual([1, 2, 3]);
    for (const s of seen) {
      expect(s.reason).toBeInstanceOf(InterruptedError);
      // Interrupted at once, with the abort grace to checkpoint and return.
      expect(s.deadline).toBe(noticeAt - 120_000 + 5_000);
      expect(s.deadline! + 1_000).toBeLessThanOrEqual(noticeAt - 5_000);
    }
    expect(h.of('job:released').map((j) => j.reason)).toEqual(['interrupted', 'interrupted', 'interrupted']);
    for (const id of ids.slice(0, 3)) {
      expect(h.queue.peek(id)).toMatchObject({ receiveCount: 1 });
      expect(h.queue.peek(id)!.visibleInMs).toBeLessThanOrEqual(0);
    }
    expect(h.queue.sizes('release')).toEqual([3]); // flushed together, not one by one
    expect(h.clock.now()).toBeLessThan(noticeAt - 5_000);
    expect(h.queue.count('receive')).toBe(receives);
    expect(h.queue.peek(ids[3]!)).toBeUndefined();
    expect(h.events.filter((e) => e.name === 'interruption').map((e) => e.args[1])).toEqual(['stop']);
    expect(h.of('interruption:handled')).toMatchObject([
      { kind: 'terminate', source: 'imds', reaction: 'stop' },
    ]);
    expect(h.logs.filter((l) => l.msg === 'interruption notice')).toMatchObject([
      { level: 'info', kind: 'terminate', source: 'imds', at: noticeAt, reaction: 'stop' },
    ]);
  });

  it('interrupts at once a notice already past: a handler ignoring its signal is released without waiting', async () => {
    const source = new TestInterruptionSource();
    const h = await singleHarness({
      abortGraceMs: 5_000,
      interruptions: { sources: [source] },
      job: { schema: job, handle: () => new Promise(() => {}) },
    });
    const [id] = await h.queue.sendBodies([{ n: 1 }]);
    h.running = h.runner.run();
    await h.settle();
    const startedAt = h.clock.monotonic();
    const handled = source.emit({ kind: 'stop', at: h.clock.now() - 1_000 });
    await h.settle();
    await handled;
    expect(h.clock.monotonic()).toBe(startedAt); // no time had to pass
    expect(h.of('job:stuck')).toHaveLength(1);
    expect(h.of('job:released')).toMatchObject([{ messageId: id, reason: 'interrupted' }]);
    expect(h.queue.peek(id!)!.visibleInMs).toBeLessThanOrEqual(0);
    await h.running;
  });

  it('with drainMs, lets jobs finish for that long before interrupting them', async () => {
    const source = new TestInterruptionSource();
    const short = deferred();
    const seen: Seen[] = [];
    const clock = { now: () => 0 };
    const h = await singleHarness({
      concurrency: 2,
      interruptions: { sources: [source], drainMs: 10_000 },
      job: {
        schema: job,
        handle: (value, ctx) => (value.n === 1 ? short.promise : untilAborted(seen, clock)(value, ctx)),
      },
    });
    clock.now = () => h.clock.now();
    const [shortId, longId] = await h.queue.sendBodies([{ n: 1 }, { n: 2 }]);
    h.running = h.runner.run();
    await h.settle();
    void source.emit({ kind: 'terminate', at: h.clock.now() + 120_000 });
    await h.clock.advance(4_000);
    short.resolve();
    await h.clock.advance(10);
    expect(h.of('job:succeeded')).toMatchObject([{ messageId: shortId }]);
    expect(seen).toEqual([]);
    await h.clock.advance(6_000);
    expect(seen.map((s) => s.n)).toEqual([2]);
    await h.running;
    expect(h.of('job:released')).toMatchObject([{ messageId: longId, reason: 'interrupted' }]);
  });

  it('brings a graceful shutdown forward when a terminate notice arrives during its drain', async () => {
    const source = new TestInterruptionSource();
    const seen: Seen[] = [];
    const clock = { now: () => 0 };
    const h = await singleHarness({
      interruptions: { sources: [source] },
      job: { schema: job, handle: (value, ctx) => untilAborted(seen, clock)(value, ctx) },
    });
    clock.now = () => h.clock.now();
    await h.queue.sendBodies([{ n: 1 }]);
    h.running = h.runner.run();
    await h.settle();
    const stopped = h.runner.stop({ graceMs: 60_000 });
    await h.clock.advance(1_000);
    expect(seen).toEqual([]);
    await source.emit({ kind: 'terminate', at: h.clock.now() + 30_000 });
    await stopped;
    expect(seen).toHaveLength(1);
    expect(h.clock.monotonic()).toBeLessThan(2_000);
    expect(h.of('job:released')).toMatchObject([{ reason: 'interrupted' }]);
  });
});

describe('Runner interruptions: rebalance', () => {
  it('pauses polling while running jobs finish and are acked; a later terminate still works', async () => {
    const source = new TestInterruptionSource();
    const gate = deferred();
    const seen: Seen[] = [];
    const clock = { now: () => 0 };
    const h = await singleHarness({
      concurrency: 4,
      interruptions: { sources: [source] },
      job: {
        schema: job,
        handle: (value, ctx) => (value.n === 1 ? gate.promise : untilAborted(seen, clock)(value, ctx)),
      },
    });
    clock.now = () => h.clock.now();
    const [first] = await h.queue.sendBodies([{ n: 1 }]);
    h.running = h.runner.run();
    await h.settle();
    await source.emit({ kind: 'rebalance', at: h.clock.now() });
    expect(h.runner.stats()).toMatchObject({ paused: true, pausedBy: ['rebalance'] });
    await h.queue.sendBodies([{ n: 2 }]);
    await h.clock.advance(60_000);
    expect(h.of('job:started')).toHaveLength(1); // no new work taken
    gate.resolve();
    await h.clock.advance(10);
    expect(h.of('job:succeeded')).toMatchObject([{ messageId: first }]);
    expect(h.runner.state).toBe('RUNNING');

    await source.emit({ kind: 'terminate', at: h.clock.now() + 120_000 });
    await h.running;
    expect(h.runner.state).toBe('STOPPED');
    expect(h.events.filter((e) => e.name === 'interruption').map((e) => e.args[1])).toEqual([
      'pause',
      'stop',
    ]);
  });

  it('takes work again on resume() after a rebalance pause', async () => {
    const source = new TestInterruptionSource();
    const h = await singleHarness({
      interruptions: { sources: [source] },
      job: { schema: job, handle: () => {} },
    });
    h.running = h.runner.run();
    await source.emit({ kind: 'rebalance', at: h.clock.now() });
    await h.queue.sendBodies([{ n: 1 }]);
    await h.clock.advance(1_000);
    expect(h.of('job:succeeded')).toHaveLength(0);
    h.runner.resume();
    await h.clock.advance(10);
    expect(h.of('job:succeeded')).toHaveLength(1);
    await h.runner.stop();
  });
});

describe('Runner interruptions: hibernate', () => {
  it('release policy: pauses, interrupts with a short grace to checkpoint, releases at once, answers the notice once released; resume polls again', async () => {
    const source = new TestInterruptionSource('sleep-hook');
    const seen: Seen[] = [];
    const clock = { now: () => 0 };
    const h = await singleHarness({
      concurrency: 4,
      abortGraceMs: 30_000,
      interruptions: { sources: [source], hibernate: { policy: 'release', graceMs: 2_000 } },
      job: { schema: job, handle: (value, ctx) => untilAborted(seen, clock)(value, ctx) },
    });
    clock.now = () => h.clock.now();
    const ids = await h.queue.sendBodies([{ n: 1 }, { n: 2 }]);
    h.running = h.runner.run();
    await h.settle();
    let answered = false;
    const noticeAt = h.clock.now();
    const handled = source.emit({ kind: 'hibernate', at: noticeAt }).then(() => {
      answered = true;
    });
    await h.settle();
    await handled;
    expect(answered).toBe(true);
    expect(seen).toHaveLength(2);
    for (const s of seen) {
      expect(s.reason).toBeInstanceOf(InterruptedError);
      expect(s.deadline).toBe(noticeAt + 2_000);
    }
    expect(h.of('job:released').map((j) => j.reason)).toEqual(['hibernate', 'hibernate']);
    for (const id of ids) expect(h.queue.peek(id)!.visibleInMs).toBeLessThanOrEqual(0);
    expect(h.runner.stats()).toMatchObject({ state: 'RUNNING', paused: true, pausedBy: ['hibernate'] });

    // Asleep: nothing is taken even though the messages are visible.
    await h.clock.advance(5_000);
    expect(h.of('job:started')).toHaveLength(2);
    h.clock.jumpWallClock(600_000);
    await source.emit({ kind: 'resume', at: h.clock.now(), awayMs: 600_000 });
    expect(h.of('leases:revalidated')).toMatchObject([{ trigger: 'resume', leases: 0, claims: 0 }]);
    expect(h.runner.stats().paused).toBe(false);
    await h.clock.advance(10);
    expect(h.of('job:started')).toHaveLength(4); // both taken again (attempt 2)
    await h.runner.stop({ graceMs: 0 });
  });

  it('release policy: a handler ignoring its signal is released at the grace end', async () => {
    const source = new TestInterruptionSource();
    const h = await singleHarness({
      interruptions: { sources: [source], hibernate: { policy: 'release', graceMs: 1_000 } },
      job: { schema: job, handle: () => new Promise(() => {}) },
    });
    const [id] = await h.queue.sendBodies([{ n: 1 }]);
    h.running = h.runner.run();
    await h.settle();
    let answered = false;
    void source.emit({ kind: 'hibernate', at: h.clock.now() }).then(() => {
      answered = true;
    });
    await h.clock.advance(999);
    expect(answered).toBe(false);
    await h.clock.advance(1);
    expect(answered).toBe(true);
    expect(h.of('job:stuck')).toMatchObject([{ messageId: id }]);
    expect(h.of('job:released')).toMatchObject([{ messageId: id, reason: 'hibernate' }]);
    await h.runner.stop({ graceMs: 0 });
  });

  it('hold policy: extends every in-flight lease to holdSeconds in one batched call; jobs go on and complete once after the resume', async () => {
    const source = new TestInterruptionSource();
    const gate = deferred();
    const h = await singleHarness({
      concurrency: 16,
      visibilityTimeoutSeconds: 30,
      interruptions: { sources: [source], hibernate: { policy: 'hold', holdSeconds: 900 } },
      job: { schema: job, handle: () => gate.promise },
    });
    const extends_: LeaseExtension[][] = [];
    h.queue.extendHook = (entries) => {
      extends_.push([...entries]);
      return undefined;
    };
    const ids = await h.queue.sendBodies(Array.from({ length: 12 }, (_, n) => ({ n })));
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(h.of('job:started')).toHaveLength(12);

    await source.emit({ kind: 'hibernate', at: h.clock.now() });
    expect(extends_).toHaveLength(1);
    expect(extends_[0]).toHaveLength(12);
    expect(extends_[0]!.every((e) => e.visibilitySeconds === 900)).toBe(true);
    for (const id of ids) expect(h.queue.peek(id)!.visibleInMs).toBe(900_000);
    expect(h.runner.stats()).toMatchObject({ paused: true, pausedBy: ['hibernate'] });

    // Ten minutes asleep: the queue's clock ran on, the held leases did not run out.
    h.clock.jumpWallClock(600_000);
    await source.emit({ kind: 'resume', at: h.clock.now(), awayMs: 600_000 });
    expect(extends_).toHaveLength(2);
    expect(extends_[1]).toHaveLength(12);
    expect(extends_[1]!.every((e) => e.visibilitySeconds === 30)).toBe(true);
    expect(h.of('leases:revalidated')).toMatchObject([{ trigger: 'resume', leases: 12, leasesLost: 0 }]);
    expect(h.runner.stats().paused).toBe(false);

    gate.resolve();
    await h.clock.advance(10);
    expect(h.of('job:succeeded')).toHaveLength(12);
    expect(h.of('job:released')).toEqual([]);
    expect(h.queue.size).toBe(0);
    await h.runner.stop();
  });

  it('lifts the pause when no resume follows a hibernate notice within resumeAfterMs of awake time', async () => {
    const source = new TestInterruptionSource();
    const h = await singleHarness({
      interruptions: { sources: [source], hibernate: { policy: 'release', resumeAfterMs: 60_000 } },
      job: { schema: job, handle: () => {} },
    });
    h.running = h.runner.run();
    await source.emit({ kind: 'hibernate', at: h.clock.now() });
    await h.queue.sendBodies([{ n: 1 }]);
    await h.clock.advance(59_000);
    expect(h.of('job:started')).toHaveLength(0);
    await h.clock.advance(1_000);
    await h.clock.advance(10);
    expect(h.of('leases:revalidated')).toMatchObject([{ trigger: 'hibernate-timeout' }]);
    expect(h.of('job:succeeded')).toHaveLength(1);
    expect(h.logs.some((l) => l.msg?.startsWith('no resume after a hibernate notice'))).toBe(true);
    await h.runner.stop();
  });

  it('logs and emits each distinct notice once; a second hibernate source only waits for the policy', async () => {
    const imds = new TestInterruptionSource('imds');
    const hook = new TestInterruptionSource('sleep-hook');
    const h = await singleHarness({
      interruptions: { sources: [imds, hook], hibernate: { policy: 'hold', holdSeconds: 120 } },
      job: { schema: job, handle: () => {} },
    });
    h.running = h.runner.run();
    const at = h.clock.now();
    await imds.emit({ kind: 'hibernate', at });
    await imds.emit({ kind: 'hibernate', at }); // the same notice again
    await hook.emit({ kind: 'hibernate', at });
    const reactions = h.events.filter((e) => e.name === 'interruption').map((e) => e.args[1]);
    expect(reactions).toEqual(['hold', 'ignored']);
    expect(h.logs.filter((l) => l.msg === 'interruption notice')).toHaveLength(2);
    await h.runner.stop();
  });
});

describe('Runner interruptions: resume', () => {
  it('acks nothing until every lease is re-validated; a job whose lease moved on is abandoned, never acked', async () => {
    const source = new TestInterruptionSource('resume-detector');
    const gates = [deferred(), deferred()];
    const reasons: unknown[] = [];
    const h = await singleHarness({
      concurrency: 4,
      interruptions: { sources: [source] },
      job: {
        schema: job,
        async handle(value, ctx) {
          ctx.signal.addEventListener('abort', () => reasons.push(ctx.signal.reason), { once: true });
          await gates[value.n]!.promise;
        },
      },
    });
    const [kept, stolen] = await h.queue.sendBodies([{ n: 0 }, { n: 1 }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    // Another worker took `stolen` while this host was away.
    h.queue.takeOver(stolen!);
    let answer: (results: LeaseResult[]) => void = () => {};
    h.queue.extendHook = (entries) =>
      new Promise<LeaseResult[]>((resolve) => {
        answer = (results) => resolve(results.filter((r) => entries.some((e) => e.lease === r.lease)));
      });

    const revalidated = source.emit({ kind: 'resume', at: h.clock.now(), awayMs: 20_000 });
    await h.settle();
    gates[0]!.resolve();
    gates[1]!.resolve();
    await h.clock.advance(100);
    expect(h.queue.count('ack')).toBe(0); // both wait for the re-validation
    expect(h.of('job:succeeded')).toEqual([]);

    answer([
      { lease: `${kept}#1`, ok: true },
      { lease: `${stolen}#1`, ok: false, reason: 'stale' },
    ]);
    await revalidated;
    await h.clock.advance(10);
    expect(h.of('job:succeeded')).toMatchObject([{ messageId: kept }]);
    expect(h.of('lease:lost')).toMatchObject([{ messageId: stolen }]);
    expect(h.of('job:released')).toMatchObject([{ messageId: stolen, reason: 'lease-lost' }]);
    expect(h.queue.peek(kept!)).toBeUndefined();
    expect(h.queue.peek(stolen!)).toMatchObject({ receiveCount: 2 }); // the other worker's, untouched
    expect(h.of('leases:revalidated')).toMatchObject([{ trigger: 'resume', leases: 2, leasesLost: 1 }]);
    // Only the stolen job's signal aborts (anything it still does is cancelled).
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(LeaseLostError);
    await h.runner.stop();
  });

  it('aborts with LeaseLostError a running job whose lease the re-validation finds moved on', async () => {
    const source = new TestInterruptionSource();
    let reason: unknown;
    const h = await singleHarness({
      interruptions: { sources: [source] },
      job: {
        schema: job,
        async handle(_value, ctx) {
          reason = await aborted(ctx.signal);
          throw reason;
        },
      },
    });
    const [id] = await h.queue.sendBodies([{ n: 1 }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    h.queue.takeOver(id!);
    await source.emit({ kind: 'resume', at: h.clock.now() });
    await h.clock.advance(10);
    expect(reason).toBeInstanceOf(LeaseLostError);
    expect(h.of('job:released')).toMatchObject([{ messageId: id, reason: 'lease-lost' }]);
    expect(h.queue.count('ack')).toBe(0);
    expect(h.queue.count('release')).toBe(0);
    await h.runner.stop();
  });

  it('re-validates on its own when the wall clock jumps ahead of the monotonic clock', async () => {
    const gate = deferred();
    const h = await singleHarness({
      visibilityTimeoutSeconds: 30,
      job: { schema: job, handle: () => gate.promise },
    });
    await h.queue.sendBodies([{ n: 1 }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    h.clock.jumpWallClock(8_000); // shorter than the lease: still ours, but in doubt
    await h.clock.advance(5_000);
    expect(h.of('leases:revalidated')).toMatchObject([{ trigger: 'clock-jump', leases: 1, leasesLost: 0 }]);
    gate.resolve();
    await h.clock.advance(10);
    expect(h.of('job:succeeded')).toHaveLength(1);
    await h.runner.stop();
  });

  it('never acks a job that finishes right after a freeze longer than its lease, even before any notice', async () => {
    const gate = deferred();
    const h = await singleHarness({
      visibilityTimeoutSeconds: 30,
      job: { schema: job, handle: () => gate.promise },
    });
    const [id] = await h.queue.sendBodies([{ n: 1 }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    h.clock.jumpWallClock(120_000);
    gate.resolve(); // the handler's continuation runs before any heartbeat tick
    await h.settle();
    expect(h.queue.count('ack')).toBe(0);
    expect(h.of('job:succeeded')).toEqual([]);
    expect(h.of('job:released')).toMatchObject([{ messageId: id, reason: 'lease-lost' }]);
    await h.runner.stop();
  });
});
