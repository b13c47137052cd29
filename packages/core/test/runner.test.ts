import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  InterruptedError,
  JobTimeoutError,
  LeaseLostError,
  PermanentJobError,
  RetryJobError,
} from '../src/errors.ts';
import type { JobContext } from '../src/runner/job-definition.ts';
import { aborted, deferred, singleHarness, typedHarness } from './support/runner-harness.ts';

const greet = z.object({ type: z.literal('greet'), name: z.string(), times: z.number().int().default(1) });

describe('Runner outcomes', () => {
  it('runs a valid job with a typed value and a full context, then acks it', async () => {
    const seen: { job: z.output<typeof greet>; ctx: JobContext }[] = [];
    const h = await typedHarness({
      jobs: {
        greet: {
          schema: greet,
          handle(job, ctx) {
            seen.push({ job, ctx });
          },
        },
      },
    });
    const [id] = await h.queue.sendBodies([{ type: 'greet', name: 'ada' }]);
    h.running = h.runner.run();
    await h.clock.advance(10);

    expect(seen).toHaveLength(1);
    const { job, ctx } = seen[0]!;
    expect(job).toEqual({ type: 'greet', name: 'ada', times: 1 }); // the schema's default applied
    expect(ctx.messageId).toBe(id);
    expect(ctx.attempt).toBe(1);
    expect(ctx.type).toBe('greet');
    expect(ctx.deadline).toBeUndefined();
    expect(ctx.message.body).toContain('ada');
    expect(ctx.signal.aborted).toBe(false);
    expect(h.queue.size).toBe(0);
    expect(h.of('job:succeeded')).toMatchObject([{ messageId: id, type: 'greet', attempt: 1 }]);
    const outcome = h.logs.filter((l) => l.outcome !== undefined);
    expect(outcome).toMatchObject([
      { level: 'info', outcome: 'succeeded', messageId: id, type: 'greet', attempt: 1, queue: 'unit-queue' },
    ]);
    await h.runner.stop();
  });

  it('gives ctx.logger the job bindings', async () => {
    const h = await typedHarness({
      jobs: { greet: { schema: greet, handle: (_job, ctx) => ctx.logger.info({ step: 1 }, 'inside') } },
    });
    const [id] = await h.queue.sendBodies([{ type: 'greet', name: 'x' }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(h.logs.find((l) => l.msg === 'inside')).toMatchObject({
      messageId: id,
      type: 'greet',
      attempt: 1,
      queue: 'unit-queue',
      step: 1,
    });
    await h.runner.stop();
  });

  it('releases with the delay a RetryJobError asks for', async () => {
    const h = await singleHarness({
      job: {
        schema: z.object({ n: z.number() }),
        handle() {
          throw new RetryJobError('throttled', { delaySeconds: 42 });
        },
      },
    });
    const [id] = await h.queue.sendBodies([{ n: 1 }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(h.of('job:retried')).toMatchObject([{ messageId: id, type: 'default', delaySeconds: 42 }]);
    expect(h.queue.peek(id!)?.visibleInMs).toBeGreaterThan(41_000);
    expect(h.queue.peek(id!)?.visibleInMs).toBeLessThanOrEqual(42_000);
    await h.runner.stop();
  });

  it('retries other errors with exponential backoff and jitter, then dead-letters when attempts run out', async () => {
    const attempts: number[] = [];
    const h = await singleHarness({
      maxAttempts: 3,
      random: () => 1, // top of the equal-jitter range: 5 s, then 10 s
      job: {
        type: 'flaky',
        schema: z.object({}),
        handle(_job, ctx) {
          attempts.push(ctx.attempt);
          throw new Error('boom');
        },
      },
    });
    const [id] = await h.queue.sendBodies([{}]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(h.of('job:retried').map((j) => j.delaySeconds)).toEqual([5]);
    await h.clock.advance(4_900);
    expect(attempts).toEqual([1]); // still hidden by the backoff
    await h.clock.advance(200);
    expect(attempts).toEqual([1, 2]);
    await h.clock.advance(10_100);
    expect(attempts).toEqual([1, 2, 3]);
    expect(h.of('job:retried').map((j) => j.delaySeconds)).toEqual([5, 10]);
    expect(h.queue.deadLetters).toHaveLength(1);
    expect(h.queue.deadLetters[0]!.message.id).toBe(id);
    expect(h.queue.deadLetters[0]!.reason).toBe('attempts exhausted: attempt 3 of 3 failed: boom');
    expect(h.of('job:dead-lettered')).toMatchObject([{ messageId: id, type: 'flaky', attempt: 3 }]);
    await h.runner.stop();
  });

  it('dead-letters a PermanentJobError at once with its reason, never retrying', async () => {
    let calls = 0;
    const h = await singleHarness({
      job: {
        schema: z.object({}),
        handle() {
          calls++;
          throw new PermanentJobError('not an image');
        },
      },
    });
    await h.queue.sendBodies([{}]);
    h.running = h.runner.run();
    await h.clock.advance(60_000);
    expect(calls).toBe(1);
    expect(h.queue.deadLetters.map((d) => d.reason)).toEqual(['permanent failure: not an image']);
    expect(h.queue.count('release')).toBe(0);
    await h.runner.stop();
  });

  it('releases at once, not as a failure, when the handler throws InterruptedError', async () => {
    let calls = 0;
    const h = await singleHarness({
      maxAttempts: 1,
      job: {
        schema: z.object({}),
        handle() {
          calls++;
          if (calls === 1) throw new InterruptedError('host going away');
        },
      },
    });
    await h.queue.sendBodies([{}]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(h.of('job:released')).toMatchObject([{ reason: 'interrupted' }]);
    expect(h.of('job:retried')).toEqual([]);
    expect(h.queue.deadLetters).toEqual([]);
    await h.clock.advance(10);
    expect(calls).toBe(2); // visible again at once
    expect(h.of('job:succeeded')).toHaveLength(1);
    await h.runner.stop();
  });
});

describe('Runner validation', () => {
  const poison = [
    { body: 'x'.repeat(101), reason: 'body too large: 101 bytes, limit 100' },
    { body: '{"type":', reason: /^malformed JSON: / },
    { body: '[1,2]', reason: 'body is not a JSON object with a "type" field' },
    { body: '{"name":"a"}', reason: 'missing or non-string "type" field' },
    { body: '{"type":"nope"}', reason: 'unknown job type "nope"' },
    { body: '{"type":"greet","name":7}', reason: /^schema violation for type "greet": name: / },
  ];

  it('dead-letters poison bodies with their reason before any handler runs, logging each once', async () => {
    let calls = 0;
    const h = await typedHarness({
      maxBodyBytes: 100,
      jobs: {
        greet: {
          schema: greet,
          handle() {
            calls++;
          },
        },
      },
    });
    const ids = await h.queue.sendBodies(poison.map((p) => p.body));
    h.running = h.runner.run();
    await h.clock.advance(10);

    expect(calls).toBe(0);
    expect(h.of('job:started')).toEqual([]);
    expect(h.queue.size).toBe(0);
    for (const [i, p] of poison.entries()) {
      const dead = h.queue.deadLetters.find((d) => d.message.id === ids[i]);
      if (typeof p.reason === 'string') expect(dead?.reason).toBe(p.reason);
      else expect(dead?.reason).toMatch(p.reason);
      expect(h.logs.filter((l) => l.messageId === ids[i] && l.level === 'error')).toHaveLength(1);
    }
    // Unknown types stay out of the `type` label; a schema violation keeps its route.
    expect(h.of('job:dead-lettered').map((j) => j.type)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      'greet',
    ]);
    await h.clock.advance(60_000);
    expect(h.queue.deadLetters).toHaveLength(poison.length); // never retried
    await h.runner.stop();
  });

  it('retries (does not dead-letter) when the schema itself throws', async () => {
    const broken = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: () => {
          throw new Error('schema bug');
        },
      },
    };
    const h = await singleHarness({ job: { schema: broken, handle: () => {} } });
    await h.queue.sendBodies([{}]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(h.queue.deadLetters).toEqual([]);
    expect(h.of('job:retried')).toMatchObject([{ error: { message: 'schema bug' } }]);
    await h.runner.stop();
  });
});

describe('Runner timeouts and stuck handlers', () => {
  it('aborts ctx.signal with JobTimeoutError when the job times out and counts the attempt as failed', async () => {
    let reason: unknown;
    const h = await singleHarness({
      jobTimeoutMs: 1_000,
      random: () => 0,
      job: {
        schema: z.object({}),
        async handle(_job, ctx) {
          reason = await aborted(ctx.signal);
          throw reason;
        },
      },
    });
    await h.queue.sendBodies([{}]);
    h.running = h.runner.run();
    await h.clock.advance(999);
    expect(reason).toBeUndefined();
    await h.clock.advance(1);
    expect(reason).toBeInstanceOf(JobTimeoutError);
    await h.clock.advance(5); // the release batch's linger
    const [retried] = h.of('job:retried');
    expect(retried?.error).toBeInstanceOf(JobTimeoutError);
    expect(retried?.durationMs).toBe(1_000);
    expect(retried?.delaySeconds).toBe(3); // equal jitter at random 0: 5 / 2, rounded
    await h.runner.stop();
  });

  it('declares a handler that ignores its signal stuck after the grace, frees its slot and ignores its late result', async () => {
    const ignoring = deferred();
    let started = 0;
    const h = await singleHarness({
      concurrency: 1,
      jobTimeoutMs: 1_000,
      abortGraceMs: 500,
      job: {
        schema: z.object({ stuck: z.boolean() }),
        async handle(job) {
          started++;
          if (job.stuck) await ignoring.promise;
        },
      },
    });
    const [stuckId, nextId] = await h.queue.sendBodies([{ stuck: true }, { stuck: false }]);
    h.running = h.runner.run();
    await h.clock.advance(1_499);
    expect(started).toBe(1);
    expect(h.of('job:stuck')).toEqual([]);
    await h.clock.advance(1);
    expect(h.of('job:stuck')).toMatchObject([{ messageId: stuckId, durationMs: 1_500 }]);
    await h.clock.advance(5); // the release batch's linger
    expect(h.of('job:retried')).toMatchObject([{ messageId: stuckId, error: expect.any(JobTimeoutError) }]);
    expect(h.runner.stats().stuck).toBe(1);
    await h.clock.advance(10);
    expect(started).toBe(2); // the slot went to the next job
    expect(h.of('job:succeeded')).toMatchObject([{ messageId: nextId }]);

    ignoring.resolve();
    await h.clock.advance(10);
    expect(h.runner.stats().stuck).toBe(0);
    expect(h.of('job:succeeded')).toHaveLength(1); // the late success was not acked
    expect(h.queue.peek(stuckId!)).toBeDefined();
    await h.runner.stop();
  });
});

describe('Runner leases', () => {
  it('extends every lease near expiry in one batched call per tick and keeps jobs alive past the visibility timeout', async () => {
    const release = deferred();
    const h = await singleHarness({
      concurrency: 25,
      visibilityTimeoutSeconds: 30, // ticks every 5 s, extends leases with <= 15 s left
      job: { schema: z.object({}), handle: () => release.promise },
    });
    const ids = await h.queue.sendBodies(Array.from({ length: 25 }, () => ({})));
    h.running = h.runner.run();
    await h.clock.advance(100_000);
    expect(h.of('job:started')).toHaveLength(25);
    const extends_ = h.queue.sizes('extend');
    expect(extends_.length).toBeGreaterThanOrEqual(5);
    expect(extends_.every((size) => size === 25)).toBe(true);
    expect(
      h
        .of('batch:sent')
        .filter((b) => b.kind === 'extend')
        .every((b) => b.size === 25),
    ).toBe(true);
    for (const id of ids) expect(h.queue.peek(id)?.receiveCount).toBe(1);
    release.resolve();
    await h.clock.advance(10);
    expect(h.of('job:succeeded')).toHaveLength(25);
    expect(h.queue.size).toBe(0);
    await h.runner.stop();
  });

  it('aborts a job whose lease went stale with LeaseLostError and never acks it', async () => {
    let reason: unknown;
    const h = await singleHarness({
      visibilityTimeoutSeconds: 30,
      job: {
        schema: z.object({}),
        async handle(_job, ctx) {
          reason = await aborted(ctx.signal);
          // A handler that completes anyway must still not be acked.
        },
      },
    });
    const [id] = await h.queue.sendBodies([{}]);
    h.queue.extendHook = (entries) =>
      Promise.resolve(entries.map((e) => ({ lease: e.lease, ok: false as const, reason: 'stale' as const })));
    h.running = h.runner.run();
    await h.clock.advance(20_000);
    expect(reason).toBeInstanceOf(LeaseLostError);
    expect(h.of('lease:lost')).toMatchObject([{ messageId: id }]);
    expect(h.of('job:released')).toMatchObject([{ messageId: id, reason: 'lease-lost' }]);
    expect(h.queue.count('ack')).toBe(0);
    expect(h.queue.count('release')).toBe(0);
    expect(h.of('job:succeeded')).toEqual([]);
    await h.runner.stop();
  });

  it('treats a lease as lost when the wall clock jumped past its expiry (resume from hibernation)', async () => {
    let reason: unknown;
    const h = await singleHarness({
      visibilityTimeoutSeconds: 30,
      job: {
        schema: z.object({}),
        async handle(_job, ctx) {
          reason = await aborted(ctx.signal);
          throw reason;
        },
      },
    });
    await h.queue.sendBodies([{}]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    h.clock.jumpWallClock(10 * 60_000);
    await h.clock.advance(5_000);
    expect(reason).toBeInstanceOf(LeaseLostError);
    expect(h.of('job:released')).toMatchObject([{ reason: 'lease-lost' }]);
    expect(h.queue.count('extend')).toBe(0);
    await h.runner.stop();
  });
});

describe('Runner batching and concurrency', () => {
  it('acks jobs finishing together in batches of at most 10, and a lone job after the linger', async () => {
    const gate = deferred();
    const h = await singleHarness({
      concurrency: 25,
      batchLingerMs: 5,
      job: {
        schema: z.object({ wait: z.boolean() }),
        handle: (job) => (job.wait ? gate.promise : undefined),
      },
    });
    await h.queue.sendBodies(Array.from({ length: 25 }, () => ({ wait: true })));
    h.running = h.runner.run();
    await h.settle();
    gate.resolve();
    await h.settle();
    expect(h.queue.sizes('ack')).toEqual([10, 10]); // full batches go at once
    await h.clock.advance(5);
    expect(h.queue.sizes('ack')).toEqual([10, 10, 5]); // the rest after the linger

    await h.queue.sendBodies([{ wait: false }]);
    await h.settle();
    expect(h.queue.sizes('ack')).toEqual([10, 10, 5]);
    await h.clock.advance(5);
    expect(h.queue.sizes('ack')).toEqual([10, 10, 5, 1]);
    expect(
      h
        .of('batch:sent')
        .filter((b) => b.kind === 'ack')
        .map((b) => b.size),
    ).toEqual([10, 10, 5, 1]);
    await h.runner.stop();
  });

  it('waits up to pollLingerMs for a full receive while jobs still run, so receives are not split into slivers', async () => {
    const gates: ReturnType<typeof deferred<void>>[] = [];
    const h = await singleHarness({
      concurrency: 20,
      pollLingerMs: 25,
      job: {
        schema: z.object({}),
        async handle() {
          const gate = deferred();
          gates.push(gate);
          await gate.promise;
        },
      },
    });
    await h.queue.sendBodies(Array.from({ length: 40 }, () => ({})));
    h.running = h.runner.run();
    await h.clock.advance(5);
    expect(h.queue.sizes('receive').filter((n) => n > 0)).toEqual([10, 10]);

    // Two slots free while 18 jobs run: no poll yet.
    gates[0]!.resolve();
    gates[1]!.resolve();
    await h.clock.advance(10);
    expect(h.queue.sizes('receive').filter((n) => n > 0)).toEqual([10, 10]);

    // Eight more free within the linger: one full receive of 10.
    for (const gate of gates.slice(2, 10)) gate.resolve();
    await h.clock.advance(1);
    expect(h.queue.sizes('receive').filter((n) => n > 0)).toEqual([10, 10, 10]);

    // Three free and nothing more: after the linger the runner polls for what it has.
    for (const gate of gates.slice(10, 13)) gate.resolve();
    await h.clock.advance(24);
    expect(h.queue.sizes('receive').filter((n) => n > 0)).toEqual([10, 10, 10]);
    await h.clock.advance(2);
    expect(h.queue.sizes('receive').filter((n) => n > 0)).toEqual([10, 10, 10, 3]);

    for (const gate of gates.splice(0)) gate.resolve();
    await h.runner.stop();
    await h.running;
  });

  it('never runs more than `concurrency` jobs and polls only for free slots, beyond 10', async () => {
    const gates: ReturnType<typeof deferred<void>>[] = [];
    let running = 0;
    let peak = 0;
    const h = await singleHarness({
      concurrency: 12,
      job: {
        schema: z.object({}),
        async handle() {
          running++;
          peak = Math.max(peak, running);
          const gate = deferred();
          gates.push(gate);
          await gate.promise;
          running--;
        },
      },
    });
    await h.queue.sendBodies(Array.from({ length: 30 }, () => ({})));
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(running).toBe(12);
    expect(h.queue.sizes('receive').filter((n) => n > 0)).toEqual([10, 2]);
    expect(h.runner.stats()).toMatchObject({ inFlight: 12, available: 0, concurrency: 12, leases: 12 });

    gates[0]!.resolve();
    gates[1]!.resolve();
    gates[2]!.resolve();
    await h.clock.advance(10);
    expect(running).toBe(12);
    expect(
      h.queue
        .sizes('receive')
        .filter((n) => n > 0)
        .at(-1),
    ).toBeLessThanOrEqual(3);
    for (let round = 0; round < 10 && gates.length > 0; round++) {
      for (const gate of gates.splice(0)) gate.resolve();
      await h.clock.advance(10);
    }
    expect(peak).toBe(12);
    expect(h.of('job:succeeded')).toHaveLength(30);
    await h.runner.stop();
  });

  it('keeps polling and finishing jobs while one slow job holds a slot', async () => {
    const slow = deferred();
    const h = await singleHarness({
      concurrency: 2,
      job: {
        schema: z.object({ slow: z.boolean() }),
        handle: (job) => (job.slow ? slow.promise : undefined),
      },
    });
    await h.queue.sendBodies([{ slow: true }]);
    h.running = h.runner.run();
    await h.settle();
    await h.queue.sendBodies(Array.from({ length: 20 }, () => ({ slow: false })));
    await h.clock.advance(100);
    expect(h.of('job:succeeded')).toHaveLength(20);
    expect(h.runner.stats().inFlight).toBe(1);
    slow.resolve();
    await h.clock.advance(10);
    expect(h.of('job:succeeded')).toHaveLength(21);
    await h.runner.stop();
  });
});
