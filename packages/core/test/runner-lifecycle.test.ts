import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InterruptedError } from '../src/errors.ts';
import type { ConsumeOptions } from '../src/ports/queue.ts';
import { Runner } from '../src/runner/runner.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { recordingLogger } from '../src/testing/recording-logger.ts';
import { FakeQueue } from './support/fake-queue.ts';
import { aborted, deferred, singleHarness } from './support/runner-harness.ts';

const anything = z.object({}).passthrough();

describe('Runner lifecycle', () => {
  it('goes INITIALIZED → RUNNING → STOPPING → DRAINING → STOPPED, and stop() is idempotent', async () => {
    const h = await singleHarness({ job: { schema: anything, handle: () => {} } });
    expect(h.runner.state).toBe('INITIALIZED');
    h.running = h.runner.run();
    expect(h.runner.run()).toBe(h.running);
    await h.settle();
    const first = h.runner.stop();
    const second = h.runner.stop({ graceMs: 1 });
    expect(second).toBe(first);
    await first;
    await h.running;
    expect(h.of('state')).toEqual(['RUNNING', 'STOPPING', 'DRAINING', 'STOPPED']);
    expect(h.events.filter((e) => e.name === 'state').map((e) => e.args[1])).toEqual([
      'INITIALIZED',
      'RUNNING',
      'STOPPING',
      'DRAINING',
    ]);
    expect(h.logs.at(-1)).toMatchObject({ level: 'info', msg: 'runner stopped' });
    expect(h.clock.pendingTimers).toBe(0); // heartbeat ticks and sleeps all cancelled
  });

  it('stops straight from INITIALIZED without polling', async () => {
    const h = await singleHarness({ job: { schema: anything, handle: () => {} } });
    await h.runner.stop();
    expect(h.runner.state).toBe('STOPPED');
    await h.runner.run();
    expect(h.queue.count('receive')).toBe(0);
  });

  it('drains: finishing jobs are acked, the rest are interrupted at the grace end and released at once', async () => {
    const finishing = deferred();
    const deadlines: (number | undefined)[] = [];
    let interruptedWith: unknown;
    const h = await singleHarness({
      concurrency: 4,
      job: {
        schema: z.object({ finish: z.boolean() }),
        async handle(job, ctx) {
          if (job.finish) return finishing.promise;
          interruptedWith = await aborted(ctx.signal);
          deadlines.push(ctx.deadline);
          throw interruptedWith;
        },
      },
    });
    const [finishId, longId] = await h.queue.sendBodies([{ finish: true }, { finish: false }]);
    h.running = h.runner.run();
    await h.clock.advance(1_000);
    const stopAt = h.clock.now();
    const stopped = h.runner.stop({ graceMs: 10_000 });
    await h.settle();
    expect(h.runner.state).toBe('DRAINING');
    await h.clock.advance(3_000);
    finishing.resolve();
    await h.clock.advance(10);
    expect(h.of('job:succeeded')).toMatchObject([{ messageId: finishId }]);
    expect(interruptedWith).toBeUndefined();

    await h.clock.advance(7_000);
    await stopped;
    expect(interruptedWith).toBeInstanceOf(InterruptedError);
    expect(deadlines).toEqual([stopAt + 15_000]); // drain 10 s + abort grace 5 s: when it must return
    expect(h.of('job:released')).toMatchObject([{ messageId: longId, reason: 'shutdown' }]);
    expect(h.queue.peek(longId!)).toMatchObject({ receiveCount: 1 });
    expect(h.queue.peek(longId!)!.visibleInMs).toBeLessThanOrEqual(0); // visible again at once
    expect(h.queue.peek(finishId!)).toBeUndefined();
    expect(h.runner.state).toBe('STOPPED');
  });

  it('with a deadline, drains until deadline − abort grace − 1 s and releases with reason interrupted', async () => {
    const deadlines: (number | undefined)[] = [];
    const h = await singleHarness({
      abortGraceMs: 5_000,
      job: {
        schema: anything,
        async handle(_job, ctx) {
          const reason = await aborted(ctx.signal);
          deadlines.push(ctx.deadline);
          throw reason;
        },
      },
    });
    await h.queue.sendBodies([{}]);
    h.running = h.runner.run();
    await h.settle();
    const deadline = h.clock.now() + 120_000;
    const stopped = h.runner.stop({ deadline, reason: 'interrupted' });
    await h.clock.advance(113_999);
    expect(deadlines).toEqual([]);
    await h.clock.advance(1);
    await stopped;
    expect(deadlines).toEqual([deadline - 1_000]); // must return by the deadline minus the margin
    expect(h.of('job:released')).toMatchObject([{ reason: 'interrupted' }]);
  });

  it('releases a handler that ignores the shutdown abort once the abort grace ends, and reports it stuck', async () => {
    const h = await singleHarness({
      abortGraceMs: 2_000,
      job: { schema: anything, handle: () => new Promise(() => {}) },
    });
    const [id] = await h.queue.sendBodies([{}]);
    h.running = h.runner.run();
    await h.settle();
    const stopped = h.runner.stop({ graceMs: 1_000 });
    await h.clock.advance(2_999);
    expect(h.runner.state).toBe('DRAINING');
    await h.clock.advance(1);
    await stopped;
    expect(h.of('job:stuck')).toMatchObject([{ messageId: id }]);
    expect(h.of('job:released')).toMatchObject([{ messageId: id, reason: 'shutdown' }]);
    expect(h.queue.peek(id!)!.visibleInMs).toBeLessThanOrEqual(0);
    expect(h.runner.stats()).toMatchObject({ state: 'STOPPED', stuck: 1 });
  });

  it('flushes a pending ack at stop without waiting for the linger', async () => {
    const h = await singleHarness({ batchLingerMs: 60_000, job: { schema: anything, handle: () => {} } });
    await h.queue.sendBodies([{}]);
    h.running = h.runner.run();
    await h.settle();
    expect(h.queue.count('ack')).toBe(0);
    await h.runner.stop();
    expect(h.queue.sizes('ack')).toEqual([1]);
    expect(h.queue.size).toBe(0);
  });

  it('releases at once messages a cancelled poll still returns, and jobs that never got a slot', async () => {
    const h = await singleHarness({
      concurrency: 1,
      job: {
        schema: z.object({ n: z.number() }),
        handle: async (_job, ctx) => {
          throw await aborted(ctx.signal);
        },
      },
    });
    const ids = await h.queue.sendBodies([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    // An adapter that over-delivers (3 for 1 slot), then answers once more after the abort.
    h.queue.consume = async (options: ConsumeOptions) => {
      await options.capacity(options.signal);
      options.deliver(await h.queue.receive({ maxMessages: 3, visibilitySeconds: 30, waitSeconds: 0 }));
      await aborted(options.signal);
      options.deliver(await h.queue.receive({ maxMessages: 10, visibilitySeconds: 30, waitSeconds: 0 }));
    };
    h.running = h.runner.run();
    await h.settle();
    expect(h.of('job:started')).toHaveLength(1);
    // This adapter's poll never ends by itself: the stop waits a poll's wait, then cancels it.
    const stopped = h.runner.stop({ graceMs: 0 });
    await h.clock.advance(22_000);
    await stopped;
    expect(h.of('job:started')).toHaveLength(1);
    // Its late poll ran after the first releases and took some back: released again.
    expect(new Set(h.of('job:released').map((j) => j.messageId))).toEqual(new Set(ids));
    for (const id of ids) expect(h.queue.peek(id)!.visibleInMs).toBeLessThanOrEqual(0);
  });

  it('pause() stops polling while running jobs finish; resume() polls again', async () => {
    const gate = deferred();
    const h = await singleHarness({
      concurrency: 4,
      job: {
        schema: z.object({ wait: z.boolean() }),
        handle: (job) => (job.wait ? gate.promise : undefined),
      },
    });
    await h.queue.sendBodies([{ wait: true }]);
    h.running = h.runner.run();
    await h.settle();
    h.runner.pause();
    expect(h.runner.stats().paused).toBe(true);
    await h.queue.sendBodies([{ wait: false }, { wait: false }]);
    await h.clock.advance(1_000);
    expect(h.of('job:started')).toHaveLength(1);
    gate.resolve();
    await h.clock.advance(10);
    expect(h.of('job:succeeded')).toHaveLength(1);
    h.runner.resume();
    await h.clock.advance(10);
    expect(h.of('job:succeeded')).toHaveLength(3);
    expect(h.runner.state).toBe('RUNNING');
    await h.runner.stop();
  });

  it('FAILS when the queue cannot consume at all, releasing what it holds', async () => {
    const h = await singleHarness({ job: { schema: anything, handle: () => {} } });
    h.queue.consume = () => Promise.reject(new Error('queue gone'));
    h.running = h.runner.run();
    await expect(h.running).rejects.toThrow('queue gone');
    expect(h.runner.state).toBe('FAILED');
    expect(h.of('state').at(-1)).toBe('FAILED');
    expect(h.of('error').map((e) => e.message)).toContain('queue gone');
  });

  it('reports poll errors as events and keeps running', async () => {
    const h = await singleHarness({ job: { schema: anything, handle: () => {} } });
    const consume = h.queue.consume.bind(h.queue);
    h.queue.consume = async (options) => {
      options.onError(new Error('throttled'));
      return consume(options);
    };
    h.running = h.runner.run();
    await h.queue.sendBodies([{}]);
    await h.clock.advance(10);
    expect(h.of('error').map((e) => e.message)).toEqual(['throttled']);
    expect(h.of('job:succeeded')).toHaveLength(1);
    await h.runner.stop();
  });

  it('with handleSignals, SIGTERM stops the runner and the listeners are removed on stop', async () => {
    const clock = new ManualClock();
    const queue = new FakeQueue(clock);
    const before = process.listeners('SIGTERM');
    const runner = await Runner.create({
      queue,
      clock,
      handleSignals: true,
      job: { schema: anything, handle: () => {} },
    });
    expect(process.listeners('SIGTERM')).toEqual(before); // nothing before run()
    const running = runner.run();
    const added = process.listeners('SIGTERM').filter((l) => !before.includes(l));
    expect(added).toHaveLength(1);
    expect(process.listeners('SIGINT')).toContain(added[0]);
    (added[0] as (signal: string) => void)('SIGTERM');
    await running;
    expect(runner.state).toBe('STOPPED');
    expect(process.listeners('SIGTERM')).toEqual(before);
    expect(process.listeners('SIGINT')).not.toContain(added[0]);
  });

  it('flushes a logger that can flush, after the last line', async () => {
    const clock = new ManualClock();
    const logger = recordingLogger();
    let flushedAfter = -1;
    const flushing = Object.assign(logger, {
      flush: () => {
        flushedAfter = logger.lines.length;
      },
    });
    const runner = await Runner.create({
      queue: new FakeQueue(clock),
      clock,
      logger: flushing,
      job: { schema: anything, handle: () => {} },
    });
    const running = runner.run();
    await runner.stop();
    await running;
    expect(flushedAfter).toBe(logger.lines.length);
    expect(logger.lines.at(-1)?.msg).toBe('runner stopped');
  });

  it('reports stats for health endpoints', async () => {
    const gate = deferred();
    const h = await singleHarness({ concurrency: 3, job: { schema: anything, handle: () => gate.promise } });
    await h.queue.sendBodies([{}, {}]);
    h.running = h.runner.run();
    await h.settle();
    expect(h.runner.stats()).toEqual({
      state: 'RUNNING',
      paused: false,
      pausedBy: [],
      concurrency: 3,
      inFlight: 2,
      available: 1,
      stuck: 0,
      leases: 2,
      claims: 0,
      pendingSettlements: 0,
      lastPollAt: h.clock.now(),
      jobs: {
        started: 2,
        succeeded: 0,
        retried: 0,
        deadLettered: 0,
        released: 0,
        duplicates: 0,
        deferred: 0,
      },
    });
    gate.resolve();
    await h.runner.stop();
    expect(h.runner.stats()).toMatchObject({
      state: 'STOPPED',
      inFlight: 0,
      leases: 0,
      jobs: { succeeded: 2 },
    });
  });
});
