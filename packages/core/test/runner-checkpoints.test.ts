import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InterruptedError, LeaseLostError, PermanentJobError, ValidationError } from '../src/errors.ts';
import type { JsonValue } from '../src/ports/table.ts';
import { MemoryBlobStore } from './support/memory-blob-store.ts';
import { memoryClaimStore } from './support/memory-claims.ts';
import { aborted, deferred, singleHarness } from './support/runner-harness.ts';
import { TestInterruptionSource } from './support/test-interruption-source.ts';

const rows = z.object({ rows: z.number() });

describe('Runner checkpoints', () => {
  it('hands the last checkpoint to the next attempt, which resumes from it; deleted once the job succeeds', async () => {
    const blobs = new MemoryBlobStore();
    const source = new TestInterruptionSource();
    const starts: (JsonValue | undefined)[] = [];
    const h = await singleHarness({
      checkpoints: blobs,
      interruptions: { sources: [source] },
      job: {
        schema: rows,
        async handle(job, ctx) {
          const previous = (await ctx.previousCheckpoint) as { row: number } | undefined;
          starts.push(previous ?? null);
          for (let row = previous?.row ?? 0; row < job.rows; row++) {
            if (ctx.signal.aborted) {
              await ctx.checkpoint({ row }); // after the abort: that is when it counts
              throw ctx.signal.reason;
            }
            if (row === 3) await aborted(ctx.signal); // the host goes away mid-job
          }
        },
      },
    });
    const [id] = await h.queue.sendBodies([{ rows: 10 }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    await source.emit({ kind: 'hibernate', at: h.clock.now() });
    const prefix = `checkpoints/unit-queue/${id}/`;
    expect(Object.keys(blobs.json(prefix))).toEqual([`${prefix}t000000000000000-a000000000000001.json`]);
    expect(Object.values(blobs.json(prefix))[0]).toMatchObject({
      format: 'spotjobs.checkpoint/1',
      messageId: id,
      attempt: 1,
      token: 0,
      state: { row: 4 },
    });
    expect(h.of('job:checkpointed')).toMatchObject([{ messageId: id, attempt: 1 }]);

    await source.emit({ kind: 'resume', at: h.clock.now() });
    await h.clock.advance(10);
    expect(starts).toEqual([null, { row: 4 }]);
    expect(h.of('job:succeeded')).toMatchObject([{ messageId: id, attempt: 2 }]);
    expect(blobs.json(prefix)).toEqual({});
    expect(h.logs.find((l) => l.msg === 'resuming from a checkpoint')).toMatchObject({ fromAttempt: 1 });
    await h.runner.stop();
  });

  it('costs no request for jobs that never use checkpoints', async () => {
    const blobs = new MemoryBlobStore();
    const h = await singleHarness({ checkpoints: blobs, job: { schema: rows, handle: () => {} } });
    await h.queue.sendBodies([{ rows: 1 }, { rows: 2 }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(h.of('job:succeeded')).toHaveLength(2);
    await h.runner.stop();
    expect(blobs.calls).toEqual([]);
  });

  it('loads the previous checkpoint once per attempt, however often it is read', async () => {
    const blobs = new MemoryBlobStore();
    const h = await singleHarness({
      checkpoints: blobs,
      job: {
        schema: rows,
        async handle(_job, ctx) {
          expect(await ctx.previousCheckpoint).toBeUndefined();
          expect(await ctx.previousCheckpoint).toBeUndefined();
        },
      },
    });
    await h.queue.sendBodies([{ rows: 1 }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(h.of('job:succeeded')).toHaveLength(1);
    expect(blobs.calls.map((c) => c.op)).toEqual(['list']); // nothing found: nothing to clean up
    await h.runner.stop();
  });

  it('without a checkpoints store, ctx.checkpoint throws a ValidationError and previousCheckpoint is undefined', async () => {
    const errors: unknown[] = [];
    const h = await singleHarness({
      job: {
        schema: rows,
        async handle(_job, ctx) {
          expect(await ctx.previousCheckpoint).toBeUndefined();
          await ctx.checkpoint({ row: 1 }).catch((error: unknown) => errors.push(error));
        },
      },
    });
    await h.queue.sendBodies([{ rows: 1 }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ValidationError);
    expect((errors[0] as Error).message).toContain('checkpoints');
    await h.runner.stop();
  });

  it('refuses states that are not JSON or too large, before any request', async () => {
    const blobs = new MemoryBlobStore();
    const errors: ValidationError[] = [];
    const h = await singleHarness({
      checkpoints: blobs,
      maxCheckpointBytes: 64,
      job: {
        schema: rows,
        async handle(_job, ctx) {
          const bad = [{ when: new Date(0) }, { n: Number.NaN }, 'x'.repeat(100), { f: () => 1 }];
          for (const state of bad) {
            await ctx.checkpoint(state as unknown as JsonValue).catch((e: ValidationError) => errors.push(e));
          }
        },
      },
    });
    await h.queue.sendBodies([{ rows: 1 }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(errors.map((e) => e.issues[0])).toEqual([
      'state.when is not a JSON value',
      'state.n is not a finite number',
      'state is 102 bytes serialised, more than 64 (maxCheckpointBytes)',
      'state.f is not a JSON value',
    ]);
    expect(blobs.calls).toEqual([]);
    await h.runner.stop();
  });

  it('refuses a checkpoint once the lease is lost, and from a stuck handler after its message was released', async () => {
    const blobs = new MemoryBlobStore();
    const errors: unknown[] = [];
    const late = deferred();
    const h = await singleHarness({
      checkpoints: blobs,
      abortGraceMs: 1_000,
      job: {
        schema: rows,
        async handle(job, ctx) {
          if (job.rows === 1) {
            await aborted(ctx.signal); // lease lost
            await ctx.checkpoint({ row: 1 }).catch((e: unknown) => errors.push(e));
            return;
          }
          await late.promise; // ignores its signal: stuck, then released
          await ctx.checkpoint({ row: 2 }).catch((e: unknown) => errors.push(e));
        },
      },
    });
    const [lostId] = await h.queue.sendBodies([{ rows: 1 }, { rows: 2 }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    h.queue.takeOver(lostId!);
    await h.clock.advance(15_000); // the heartbeat finds it stale
    const stopped = h.runner.stop({ graceMs: 0 });
    await h.clock.advance(1_000);
    await stopped;
    late.resolve();
    await h.settle();
    expect(errors).toHaveLength(2);
    expect(errors.every((e) => e instanceof LeaseLostError)).toBe(true);
    expect(blobs.calls.filter((c) => c.op === 'put')).toEqual([]);
  });

  it('deletes the checkpoints of a dead-lettered job', async () => {
    const blobs = new MemoryBlobStore();
    const h = await singleHarness({
      checkpoints: blobs,
      job: {
        schema: rows,
        async handle(_job, ctx) {
          await ctx.checkpoint({ row: 7 });
          throw new PermanentJobError('input is corrupt');
        },
      },
    });
    await h.queue.sendBodies([{ rows: 1 }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(h.queue.deadLetters).toHaveLength(1);
    expect(blobs.objects.size).toBe(0);
    expect(blobs.calls.map((c) => c.op)).toEqual(['put', 'list', 'delete']);
    await h.runner.stop();
  });

  it('after a resume, a checkpoint waits for the re-validation and is refused if the lease moved on', async () => {
    const blobs = new MemoryBlobStore();
    const source = new TestInterruptionSource();
    const outcome: unknown[] = [];
    const go = deferred();
    const h = await singleHarness({
      checkpoints: blobs,
      interruptions: { sources: [source] },
      job: {
        schema: rows,
        async handle(_job, ctx) {
          await go.promise;
          await ctx.checkpoint({ row: 1 }).then(
            () => outcome.push('stored'),
            (e: unknown) => outcome.push(e),
          );
        },
      },
    });
    const [id] = await h.queue.sendBodies([{ rows: 1 }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    h.queue.takeOver(id!);
    let answer = () => {};
    h.queue.extendHook = (entries) =>
      new Promise((resolve) => {
        answer = () => resolve(entries.map((e) => ({ lease: e.lease, ok: false, reason: 'stale' })));
      });
    const revalidated = source.emit({ kind: 'resume', at: h.clock.now() });
    go.resolve();
    await h.clock.advance(100);
    expect(outcome).toEqual([]); // waiting for the answer
    answer();
    await revalidated;
    await h.settle();
    expect(outcome).toHaveLength(1);
    expect(outcome[0]).toBeInstanceOf(LeaseLostError);
    expect(blobs.calls).toEqual([]);
    await h.runner.stop();
  });

  it('writes claim-fenced checkpoints: the key carries the claim token, the next owner reads it', async () => {
    const blobs = new MemoryBlobStore();
    const claims = memoryClaimStore();
    const previous: (JsonValue | undefined)[] = [];
    const h = await singleHarness({
      checkpoints: blobs,
      job: {
        schema: rows,
        claim: { store: claims.store, key: () => 'only' },
        async handle(_job, ctx) {
          previous.push(await ctx.previousCheckpoint);
          if (ctx.attempt > 1) return;
          await ctx.checkpoint({ token: ctx.claim!.token });
          throw new InterruptedError('stop here');
        },
      },
    });
    claims.bind(h.clock);
    const [id] = await h.queue.sendBodies([{ rows: 1 }]);
    h.running = h.runner.run();
    await h.clock.advance(10);
    expect(blobs.calls.filter((c) => c.op === 'put').map((c) => c.key)).toEqual([
      `checkpoints/unit-queue/${id}/t000000000000001-a000000000000001.json`,
    ]);
    expect(previous).toEqual([undefined, { token: 1 }]);
    expect(h.of('job:succeeded')).toMatchObject([{ attempt: 2 }]);
    expect(blobs.objects.size).toBe(0);
    await h.runner.stop();
  });
});
