import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Claim } from '../src/claims/claim.ts';
import { LeaseLostError } from '../src/errors.ts';
import type { JobContext } from '../src/runner/job-definition.ts';
import { memoryClaimStore as claimStore } from './support/memory-claims.ts';
import { aborted, deferred, singleHarness } from './support/runner-harness.ts';
import { TestInterruptionSource } from './support/test-interruption-source.ts';

const build = z.object({ pkg: z.string() });

/** A runner whose job claims `build#<pkg>` and only counts its runs. */
async function countingHarness() {
  const { store, bind } = claimStore();
  let runs = 0;
  const h = await singleHarness({
    job: {
      schema: build,
      claim: { store, key: (job) => `build#${job.pkg}` },
      handle() {
        runs++;
      },
    },
  });
  bind(h.clock);
  return { store, h, runs: () => runs };
}

describe('Runner claims', () => {
  it('claims the key before the handler runs, exposes ctx.claim, completes with the result before acking', async () => {
    const { store, bind, item } = claimStore();
    const seen: Claim[] = [];
    const h = await singleHarness({
      job: {
        schema: build,
        claim: { store, key: (job) => `build#${job.pkg}` },
        handle(_job, ctx: JobContext) {
          seen.push(ctx.claim!);
          return { artifact: 's3://bucket/gcc.tbz2' };
        },
      },
    });
    bind(h.clock);
    let completedAtAck: unknown;
    h.queue.ackHook = () => {
      completedAtAck = item('build#gcc')?.data.completed;
      return undefined;
    };
    const [id] = await h.queue.sendBodies([{ pkg: 'gcc' }]);
    h.running = h.runner.run();
    await h.clock.advance(10);

    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ key: 'build#gcc', token: 1 });
    expect(seen[0]!.owner).toMatch(/^[0-9a-f-]{36}\/1$/);
    expect(completedAtAck).toBe(true); // completed first, then acked
    expect(await store.get('build#gcc')).toMatchObject({
      completed: true,
      result: { artifact: 's3://bucket/gcc.tbz2' },
    });
    expect(h.of('job:succeeded')).toMatchObject([{ messageId: id }]);
    expect(h.runner.stats().claims).toBe(0);
    await h.runner.stop();
  });

  it('acks a duplicate delivery of completed work without running the handler', async () => {
    const { store, h, runs } = await countingHarness();
    const done = await store.claim('build#gcc', 'earlier-worker', { ttlMs: 60_000 });
    await store.complete(done!, { artifact: 'x' });
    const [id] = await h.queue.sendBodies([{ pkg: 'gcc' }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(runs()).toBe(0);
    expect(h.queue.peek(id!)).toBeUndefined();
    expect(h.of('job:duplicate')).toMatchObject([{ messageId: id, claimKey: 'build#gcc' }]);
    expect(h.of('job:succeeded')).toEqual([]);
    expect(h.logs.find((l) => l.outcome === 'duplicate')).toMatchObject({
      level: 'info',
      claimKey: 'build#gcc',
    });
    expect(h.runner.stats().jobs.duplicates).toBe(1);
    await h.runner.stop();
  });

  it('releases with the remaining TTL as delay while another live owner holds the claim', async () => {
    const { store, h, runs } = await countingHarness();
    await store.claim('build#gcc', 'other-worker', { ttlMs: 45_000 });
    await h.clock.advance(5_000);
    const [id] = await h.queue.sendBodies([{ pkg: 'gcc' }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(runs()).toBe(0);
    expect(h.of('job:deferred')).toMatchObject([{ messageId: id, claimKey: 'build#gcc', delaySeconds: 40 }]);
    expect(h.queue.peek(id!)!.visibleInMs).toBeGreaterThan(39_000);
    expect(h.queue.peek(id!)!.visibleInMs).toBeLessThanOrEqual(40_000);
    expect(h.runner.stats().jobs.deferred).toBe(1);
    await h.runner.stop();
  });

  it('renews the claim with the heartbeats while the job runs', async () => {
    const { store, bind } = claimStore();
    const gate = deferred();
    const tokens: number[] = [];
    const h = await singleHarness({
      visibilityTimeoutSeconds: 30,
      job: {
        schema: build,
        claim: { store, key: (job) => `build#${job.pkg}`, ttlMs: 20_000 },
        async handle(_job, ctx) {
          await gate.promise;
          tokens.push(ctx.claim!.token);
        },
      },
    });
    bind(h.clock);
    await h.queue.sendBodies([{ pkg: 'gcc' }]);
    h.running = h.runner.run();
    await h.clock.advance(60_000);
    const state = await store.get('build#gcc');
    expect(state).toMatchObject({ held: true, token: 1 });
    expect(state!.expiresAt).toBeGreaterThan(h.clock.now() + 5_000);
    gate.resolve();
    await h.clock.advance(10);
    expect(tokens).toEqual([1]); // renewals keep the token
    expect(h.of('job:succeeded')).toHaveLength(1);
    await h.runner.stop();
  });

  it('releases the claim when the job fails, so the next attempt takes it at once', async () => {
    const { store, bind } = claimStore();
    const owners: string[] = [];
    const h = await singleHarness({
      random: () => 0,
      backoff: { initialSeconds: 1, jitter: 'none' },
      job: {
        schema: build,
        claim: { store, key: (job) => `build#${job.pkg}`, ttlMs: 600_000 },
        handle(_job, ctx) {
          owners.push(ctx.claim!.owner);
          if (owners.length === 1) throw new Error('compiler crashed');
        },
      },
    });
    bind(h.clock);
    await h.queue.sendBodies([{ pkg: 'gcc' }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(await store.get('build#gcc')).toMatchObject({ held: false, completed: false });
    await h.clock.advance(1_100);
    expect(owners).toHaveLength(2);
    expect(owners[0]).not.toBe(owners[1]); // a fresh owner per delivery
    expect(h.of('job:succeeded')).toHaveLength(1);
    expect(h.of('job:deferred')).toEqual([]);
    await h.runner.stop();
  });

  it('abandons a job whose completion is refused because the claim moved on: no ack, no success', async () => {
    const { store, bind, table } = claimStore();
    const gate = deferred();
    const h = await singleHarness({
      job: {
        schema: build,
        claim: { store, key: (job) => `build#${job.pkg}` },
        async handle() {
          await gate.promise;
          return { artifact: 'stale' };
        },
      },
    });
    bind(h.clock);
    const [id] = await h.queue.sendBodies([{ pkg: 'gcc' }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    // Another worker took the claim over (say, after this one froze past its TTL).
    const current = table.items.get('builds/build#gcc')!;
    await table.put(
      { pk: 'builds', sk: 'build#gcc' },
      { ...current.data, owner: 'taker', token: current.version + 1, expiresAt: h.clock.now() + 60_000 },
      { ifVersion: current.version },
    );
    gate.resolve();
    await h.clock.advance(10);
    expect(h.queue.count('ack')).toBe(0);
    expect(h.of('job:succeeded')).toEqual([]);
    expect(h.of('claim:lost')).toMatchObject([{ messageId: id, claimKey: 'build#gcc' }]);
    expect(h.of('job:released')).toMatchObject([{ messageId: id, reason: 'lease-lost' }]);
    expect(await store.get('build#gcc')).toMatchObject({
      owner: 'taker',
      completed: false,
      result: undefined,
    });
    await h.runner.stop();
  });

  it('aborts a running job with LeaseLostError when a renewal finds its claim taken over', async () => {
    const { store, bind, takeOver } = claimStore();
    let reason: unknown;
    const h = await singleHarness({
      visibilityTimeoutSeconds: 30,
      job: {
        schema: build,
        claim: { store, key: (job) => `build#${job.pkg}`, ttlMs: 20_000 },
        async handle(_job, ctx) {
          reason = await aborted(ctx.signal);
          throw reason;
        },
      },
    });
    bind(h.clock);
    await h.queue.sendBodies([{ pkg: 'gcc' }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    takeOver('build#gcc');
    await h.clock.advance(15_000);
    expect(reason).toBeInstanceOf(LeaseLostError);
    expect(h.of('claim:lost')).toHaveLength(1);
    expect(h.queue.count('ack')).toBe(0);
    expect(h.queue.count('release')).toBe(0);
    await h.runner.stop();
  });

  it('ctx.assertOwnership re-validates lease and claim now, and throws LeaseLostError once either moved on', async () => {
    const { store, bind, table, takeOver } = claimStore();
    const results: unknown[] = [];
    const step = deferred();
    const h = await singleHarness({
      job: {
        schema: build,
        claim: { store, key: (job) => `build#${job.pkg}` },
        async handle(_job, ctx) {
          await ctx.assertOwnership();
          results.push('ok');
          await step.promise;
          try {
            await ctx.assertOwnership();
          } catch (error) {
            results.push(error);
            throw error;
          }
        },
      },
    });
    bind(h.clock);
    await h.queue.sendBodies([{ pkg: 'gcc' }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(results).toEqual(['ok']);
    expect(h.queue.sizes('extend')).toEqual([1]);
    const writes = table.writes;
    expect(writes).toBe(2); // claim + one renewal

    takeOver('build#gcc');
    step.resolve();
    await h.clock.advance(10);
    expect(results[1]).toBeInstanceOf(LeaseLostError);
    expect(h.queue.count('ack')).toBe(0);
    await h.runner.stop();
  });

  it('after a resume, renews the claim before completing; a claim that moved on while away abandons the job', async () => {
    const { store, bind, takeOver } = claimStore();
    const source = new TestInterruptionSource();
    const gate = deferred();
    const h = await singleHarness({
      interruptions: { sources: [source] },
      job: {
        schema: build,
        claim: { store, key: (job) => `build#${job.pkg}` },
        async handle() {
          await gate.promise;
          return { artifact: 'late' };
        },
      },
    });
    bind(h.clock);
    const [id] = await h.queue.sendBodies([{ pkg: 'gcc' }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    // While "asleep", someone took over the claim; the queue lease happens to still be ours.
    takeOver('build#gcc');
    await source.emit({ kind: 'resume', at: h.clock.now() });
    expect(h.of('leases:revalidated')).toMatchObject([
      { leases: 1, leasesLost: 0, claims: 1, claimsLost: 1 },
    ]);
    gate.resolve();
    await h.clock.advance(10);
    expect(h.queue.count('ack')).toBe(0);
    expect(h.of('job:succeeded')).toEqual([]);
    expect(h.of('claim:lost')).toMatchObject([{ messageId: id }]);
    expect(await store.get('build#gcc')).toMatchObject({ owner: 'taker', completed: false });
    await h.runner.stop();
  });

  it('dead-letters a message whose claim key cannot be computed', async () => {
    const { store, bind } = claimStore();
    const h = await singleHarness({
      job: {
        schema: build,
        claim: {
          store,
          key: (job) => {
            if (job.pkg === '') throw new Error('no package name');
            return job.pkg;
          },
        },
        handle: () => {},
      },
    });
    bind(h.clock);
    await h.queue.sendBodies([{ pkg: '' }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(h.queue.deadLetters.map((d) => d.reason)).toEqual([
      'permanent failure: claim key failed: no package name',
    ]);
    await h.runner.stop();
  });
});
