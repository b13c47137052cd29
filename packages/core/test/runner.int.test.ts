import { describe, expect, inject, it, vi } from 'vitest';
import { z } from 'zod';
import { PermanentJobError } from '../src/errors.ts';
import { DeadLetterAttributes, type Queue } from '../src/ports/queue.ts';
import { Runner } from '../src/runner/runner.ts';
import type { RunnerEvents } from '../src/runner/runner-events.ts';
import { localBackend, type RunnerBackend, sqsBackend } from './support/runner-backends.ts';

const backends: RunnerBackend[] = [sqsBackend(inject('emulators').sqs), localBackend];

const work = z.object({ type: z.literal('work'), n: z.number().int(), ms: z.number().int().default(0) });

function sendJobs(queue: Queue, bodies: readonly unknown[]): Promise<string[]> {
  return queue.send(bodies.map((b) => ({ body: typeof b === 'string' ? b : JSON.stringify(b) })));
}

function collect<E extends keyof RunnerEvents>(runner: Runner, event: E): RunnerEvents[E][0][] {
  const out: RunnerEvents[E][0][] = [];
  runner.on(event, (...args) => out.push(args[0]));
  return out;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

describe.each(backends)('Runner on the $name queue', (backend) => {
  it('runs 64 jobs at once with concurrency 64, and acks them in batches', async () => {
    const { queue, calls } = await backend.create({ visibilitySeconds: 30 });
    let running = 0;
    let peak = 0;
    let openBarrier = () => {};
    const barrier = new Promise<void>((resolve) => {
      openBarrier = resolve;
    });
    const runner = await Runner.create({
      queue,
      concurrency: 64,
      pollWaitSeconds: 1,
      jobs: {
        work: {
          schema: work,
          async handle(_job, ctx) {
            running++;
            peak = Math.max(peak, running);
            if (running === 64) openBarrier();
            // Everyone waits until all 64 run at once (or the test's own timeout fails it).
            await Promise.race([barrier, sleep(30_000, ctx.signal)]);
            running--;
          },
        },
      },
    });
    const acks = collect(runner, 'batch:sent');
    const succeeded = collect(runner, 'job:succeeded');
    await sendJobs(
      queue,
      Array.from({ length: 64 }, (_, n) => ({ type: 'work', n })),
    );
    const done = runner.run();

    await vi.waitFor(() => expect(succeeded).toHaveLength(64), { timeout: 40_000, interval: 50 });
    expect(peak).toBe(64);
    const ackSizes = acks.filter((b) => b.kind === 'ack').map((b) => b.size);
    expect(ackSizes.reduce((a, b) => a + b, 0)).toBe(64);
    expect(Math.max(...ackSizes)).toBeLessThanOrEqual(10);
    expect(ackSizes.length).toBeLessThan(64);
    if (backend.name === 'sqs') {
      expect(calls.get('DeleteMessage') ?? 0).toBe(0);
      expect(calls.get('DeleteMessageBatch')).toBe(ackSizes.length);
    }
    await runner.stop();
    await done;
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('keeps polling and finishing jobs while a slow job holds a slot', async () => {
    const { queue } = await backend.create({ visibilitySeconds: 30 });
    let releaseSlow = () => {};
    const slowDone = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    const runner = await Runner.create({
      queue,
      concurrency: 3,
      pollWaitSeconds: 1,
      jobs: {
        work: {
          schema: work,
          handle: (job) => (job.n === 0 ? slowDone : undefined),
        },
      },
    });
    const succeeded = collect(runner, 'job:succeeded');
    const [slowId] = await sendJobs(queue, [{ type: 'work', n: 0 }]);
    const done = runner.run();
    await vi.waitFor(() => expect(runner.stats().inFlight).toBe(1), { timeout: 10_000, interval: 20 });
    await sendJobs(
      queue,
      Array.from({ length: 30 }, (_, i) => ({ type: 'work', n: i + 1 })),
    );
    await vi.waitFor(() => expect(succeeded).toHaveLength(30), { timeout: 30_000, interval: 50 });
    expect(succeeded.map((j) => j.messageId)).not.toContain(slowId);
    expect(runner.stats().inFlight).toBe(1);
    releaseSlow();
    await vi.waitFor(() => expect(succeeded).toHaveLength(31), { timeout: 10_000, interval: 20 });
    await runner.stop();
    await done;
  });

  it('heartbeats in batched calls keep jobs alive past their visibility timeout', async () => {
    const { queue, calls } = await backend.create({ visibilitySeconds: 3 });
    const runs = new Map<string, number>();
    const runner = await Runner.create({
      queue,
      concurrency: 12,
      visibilityTimeoutSeconds: 3, // heartbeat every 500 ms, extend with <= 1.5 s left
      pollWaitSeconds: 1,
      jobs: {
        work: {
          schema: work,
          async handle(job, ctx) {
            runs.set(ctx.messageId, (runs.get(ctx.messageId) ?? 0) + 1);
            await sleep(job.ms, ctx.signal);
          },
        },
      },
    });
    const batches = collect(runner, 'batch:sent');
    const lost = collect(runner, 'lease:lost');
    const succeeded = collect(runner, 'job:succeeded');
    const ids = await sendJobs(
      queue,
      Array.from({ length: 12 }, (_, n) => ({ type: 'work', n, ms: 6_000 })),
    );
    const done = runner.run();
    await vi.waitFor(() => expect(runner.stats().inFlight).toBe(12), { timeout: 10_000, interval: 20 });

    // Past the 3 s visibility, another consumer finds nothing: every lease is still held.
    await sleep(4_000);
    expect(await queue.receive({ maxMessages: 10, visibilitySeconds: 30, waitSeconds: 0 })).toEqual([]);

    await vi.waitFor(() => expect(succeeded).toHaveLength(12), { timeout: 20_000, interval: 50 });
    expect(lost).toEqual([]);
    expect([...runs.values()]).toEqual(ids.map(() => 1));
    const extendSizes = batches.filter((b) => b.kind === 'extend').map((b) => b.size);
    expect(extendSizes.length).toBeGreaterThanOrEqual(3);
    // Jobs received together are due together: most ticks carry many leases at once.
    expect(Math.max(...extendSizes)).toBeGreaterThan(1);
    if (backend.name === 'sqs') {
      expect(calls.get('ChangeMessageVisibility') ?? 0).toBe(0);
      expect(calls.get('ChangeMessageVisibilityBatch') ?? 0).toBeGreaterThanOrEqual(extendSizes.length);
      // One batch call per 10 leases of a tick, never one call per lease.
      const leasesExtended = extendSizes.reduce((a, b) => a + b, 0);
      expect(calls.get('ChangeMessageVisibilityBatch')).toBeLessThan(leasesExtended);
    }
    await runner.stop();
    await done;
  });

  it('dead-letters poison, permanent and exhausted messages with their reasons, and never loses one', async () => {
    const { queue, deadLetters } = await backend.create({ visibilitySeconds: 30 });
    const runner = await Runner.create({
      queue,
      pollWaitSeconds: 1,
      maxBodyBytes: 200,
      maxAttempts: 2,
      backoff: { initialSeconds: 0, maxSeconds: 0 },
      jobs: {
        work: {
          schema: work,
          handle(job) {
            if (job.n === 1) throw new PermanentJobError('cannot ever work');
            if (job.n === 2) throw new Error('always flaky');
          },
        },
      },
    });
    const dead = collect(runner, 'job:dead-lettered');
    const succeeded = collect(runner, 'job:succeeded');
    const bodies = {
      malformed: '{"type": "work", ',
      unknown: JSON.stringify({ type: 'nope' }),
      invalid: JSON.stringify({ type: 'work', n: 'x' }),
      oversized: JSON.stringify({ type: 'work', n: 0, pad: 'x'.repeat(300) }),
      permanent: JSON.stringify({ type: 'work', n: 1 }),
      exhausted: JSON.stringify({ type: 'work', n: 2 }),
      fine: JSON.stringify({ type: 'work', n: 3 }),
    };
    const ids = await sendJobs(queue, Object.values(bodies));
    const idOf = Object.fromEntries(Object.keys(bodies).map((key, i) => [key, ids[i]!]));
    const done = runner.run();
    await vi.waitFor(() => expect(dead).toHaveLength(6), { timeout: 30_000, interval: 50 });
    await vi.waitFor(() => expect(succeeded).toHaveLength(1), { timeout: 10_000, interval: 50 });
    await runner.stop();
    await done;

    const dlq = await deadLetters();
    const reasons = Object.fromEntries(
      dlq.map((m) => [
        m.attributes[DeadLetterAttributes.originalId] ?? m.body,
        m.attributes[DeadLetterAttributes.reason],
      ]),
    );
    expect(dlq).toHaveLength(6);
    expect(reasons[idOf.malformed!]).toMatch(/^malformed JSON/);
    expect(reasons[idOf.unknown!]).toBe('unknown job type "nope"');
    expect(reasons[idOf.invalid!]).toMatch(/^schema violation for type "work": n: /);
    expect(reasons[idOf.oversized!]).toMatch(/^body too large: \d+ bytes, limit 200$/);
    expect(reasons[idOf.permanent!]).toBe('permanent failure: cannot ever work');
    expect(reasons[idOf.exhausted!]).toBe('attempts exhausted: attempt 2 of 2 failed: always flaky');
    expect(dlq.find((m) => m.attributes[DeadLetterAttributes.originalId] === idOf.malformed)?.body).toBe(
      bodies.malformed,
    );
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });
});
