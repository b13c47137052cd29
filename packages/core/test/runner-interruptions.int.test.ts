// Interruption reactions end to end on both backend families (SqsQueue + DynamoTable +
// S3BlobStore on the emulators; LocalQueue + LocalTable + FsBlobStore on a temp dir): a spot
// notice with jobs in flight handed over to a second runner through checkpoints and claims,
// and the two hibernate policies.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it, vi } from 'vitest';
import { z } from 'zod';
import { ClaimStore } from '../src/claims/claim-store.ts';
import { InterruptedError } from '../src/errors.ts';
import { ManualInterruptionSource } from '../src/interruption/index.ts';
import type { Queue } from '../src/ports/queue.ts';
import type { HibernatePolicy } from '../src/runner/interruption-options.ts';
import type { JobContext } from '../src/runner/job-definition.ts';
import { Runner } from '../src/runner/runner.ts';
import type { RunnerEvents } from '../src/runner/runner-events.ts';
import { awsWorld, localWorld, type RunnerWorld, type RunnerWorldFactory } from './support/runner-worlds.ts';

const worlds: RunnerWorldFactory[] = [awsWorld(inject('emulators')), localWorld];

const count = z.object({ type: z.literal('count'), id: z.string(), to: z.number().int() });

interface Progress {
  /** Rows done so far, per job id (the latest attempt's view). */
  readonly rows: Map<string, number>;
  /** Where each attempt started, per job id. */
  readonly startedFrom: Map<string, number[]>;
}

/**
 * A job that counts rows one at a time (a few ms each), resumes from its checkpoint, and on
 * an interruption checkpoints its position before returning. Its result (the claim's) says
 * where each attempt started, so a test can tell a resumed job from a restarted one.
 */
function counting(world: RunnerWorld, claims: ClaimStore, progress: Progress, stepMs = 5) {
  return {
    schema: count,
    claim: { store: claims, key: (job: z.output<typeof count>) => `count#${job.id}` },
    async handle(job: z.output<typeof count>, ctx: JobContext) {
      const previous = (await ctx.previousCheckpoint) as { row: number } | undefined;
      let row = previous?.row ?? 0;
      const starts = progress.startedFrom.get(job.id) ?? [];
      starts.push(row);
      progress.startedFrom.set(job.id, starts);
      try {
        while (row < job.to) {
          await sleep(stepMs, undefined, { signal: ctx.signal });
          row++;
          progress.rows.set(job.id, row);
        }
      } catch (error) {
        if (!(ctx.signal.reason instanceof InterruptedError)) throw error;
        await ctx.checkpoint({ row });
        throw ctx.signal.reason;
      }
      return { id: job.id, rows: row, startedFrom: starts, backend: world.name };
    },
  };
}

function collect<E extends keyof RunnerEvents>(runner: Runner, event: E): RunnerEvents[E][0][] {
  const out: RunnerEvents[E][0][] = [];
  runner.on(event, (...args) => out.push(args[0]));
  return out;
}

async function sendCounts(queue: Queue, ids: readonly string[], to: number): Promise<void> {
  await queue.send(ids.map((id) => ({ body: JSON.stringify({ type: 'count', id, to }) })));
}

/** Everything received now, then given back (another consumer peeking at the queue). */
async function takeAll(queue: Queue, expected: number, timeoutMs: number) {
  const got: Awaited<ReturnType<Queue['receive']>> = [];
  const until = Date.now() + timeoutMs;
  while (got.length < expected && Date.now() < until) {
    got.push(...(await queue.receive({ maxMessages: 10, visibilitySeconds: 60, waitSeconds: 1 })));
  }
  return got;
}

describe.each(worlds)('Runner interruptions on the $name backends', (factory) => {
  it('hands 8 jobs in flight at a terminate notice over to a second runner: released before the deadline, resumed from checkpoints, one result each', async () => {
    // 60 s leases: a message hidden by mistake (a swallowed release) would miss the handover.
    const world = await factory.create({ visibilitySeconds: 60 });
    const partition = `claims-${randomUUID().slice(0, 8)}`;
    const claims = new ClaimStore({ table: world.table, partition });
    const progress: Progress = { rows: new Map(), startedFrom: new Map() };
    const ids = Array.from({ length: 8 }, (_, i) => `job-${i}`);
    await sendCounts(world.queue, ids, 300);

    const source = new ManualInterruptionSource();
    const first = await Runner.create({
      queue: world.queue,
      visibilityTimeoutSeconds: 60,
      // Free slots: a long poll is in flight when the notice comes.
      concurrency: 10,
      pollWaitSeconds: 1,
      checkpoints: world.blobs,
      interruptions: { sources: [source], releaseMarginMs: 5_000 },
      job: { type: 'count', ...counting(world, claims, progress) },
    });
    const released = collect(first, 'job:released');
    const handled = collect(first, 'interruption:handled');
    const firstDone = first.run();
    await source.watched();
    await vi.waitFor(
      () => {
        expect(progress.rows.size).toBe(8);
        for (const id of ids) expect(progress.rows.get(id)).toBeGreaterThanOrEqual(10);
      },
      { timeout: 20_000, interval: 20 },
    );

    // A spot notice two minutes ahead would be the real thing; 20 s keeps the test short.
    const at = Date.now() + 20_000;
    await source.emit({ kind: 'terminate', at, source: 'manual' });
    const allReleasedAt = Date.now();
    await firstDone;

    expect(first.state).toBe('STOPPED');
    expect(allReleasedAt).toBeLessThan(at - 5_000);
    expect(new Set(released.map((j) => j.messageId)).size).toBe(8);
    expect(released.every((j) => j.reason === 'interrupted')).toBe(true);
    expect(handled).toMatchObject([{ kind: 'terminate', reaction: 'stop' }]);
    for (const id of ids) expect((await claims.get(`count#${id}`))?.completed).toBe(false);

    const second = await Runner.create({
      queue: world.queue,
      visibilityTimeoutSeconds: 60,
      concurrency: 8,
      pollWaitSeconds: 1,
      checkpoints: world.blobs,
      job: { type: 'count', ...counting(world, claims, progress) },
    });
    const succeeded = collect(second, 'job:succeeded');
    const duplicates = collect(second, 'job:duplicate');
    const secondDone = second.run();
    await vi.waitFor(() => expect(succeeded).toHaveLength(8), { timeout: 30_000, interval: 50 });
    await second.stop();
    await secondDone;

    expect(succeeded.every((j) => j.attempt >= 2)).toBe(true);
    expect(duplicates).toEqual([]);
    for (const id of ids) {
      const state = await claims.get(`count#${id}`);
      expect(state).toMatchObject({ completed: true, result: { id, rows: 300 } });
      const [fromFirst, fromSecond] = state!.result!.startedFrom as number[];
      expect(fromFirst).toBe(0);
      expect(fromSecond).toBeGreaterThanOrEqual(10); // resumed, not restarted
    }
    expect(await world.queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(await world.deadLetters()).toEqual([]);
    expect((await world.blobs.list({ prefix: 'checkpoints/' })).items).toEqual([]);
  });

  it('hibernate with the release policy: every message is back on the queue once the notice is answered, with its checkpoint', async () => {
    const world = await factory.create({ visibilitySeconds: 60 });
    const claims = new ClaimStore({ table: world.table, partition: `claims-${randomUUID().slice(0, 8)}` });
    const progress: Progress = { rows: new Map(), startedFrom: new Map() };
    const ids = ['a', 'b', 'c'];
    await sendCounts(world.queue, ids, 100_000);

    const source = new ManualInterruptionSource();
    const hibernate: HibernatePolicy = { policy: 'release', graceMs: 5_000 };
    const runner = await Runner.create({
      queue: world.queue,
      concurrency: 4,
      pollWaitSeconds: 1,
      checkpoints: world.blobs,
      interruptions: { sources: [source], hibernate },
      job: { type: 'count', ...counting(world, claims, progress) },
    });
    const released = collect(runner, 'job:released');
    const done = runner.run();
    await source.watched();
    await vi.waitFor(() => expect(progress.rows.size).toBe(3), { timeout: 20_000, interval: 20 });

    await source.emit({ kind: 'hibernate', at: Date.now(), source: 'manual' });
    // The poll in flight is never cancelled (a cancelled long poll could swallow a released
    // message): if it picks one of them up again, that one is released once more.
    expect(released.every((j) => j.reason === 'hibernate')).toBe(true);
    expect(new Set(released.map((j) => j.messageId)).size).toBe(3);
    expect(runner.stats()).toMatchObject({
      state: 'RUNNING',
      paused: true,
      pausedBy: ['hibernate'],
      inFlight: 0,
    });
    // Another host can take them at once, not after the 60 s visibility timeout.
    const taken = await takeAll(world.queue, 3, 15_000);
    expect(taken.map((m) => JSON.parse(m.body).id).sort()).toEqual(ids);
    expect(taken.every((m) => m.receiveCount >= 2)).toBe(true);
    for (const id of ids) expect((await claims.get(`count#${id}`))?.held).toBe(false);
    const checkpoints = (await world.blobs.list({ prefix: 'checkpoints/' })).items.map((i) => i.key);
    expect(new Set(checkpoints.map((key) => key.split('/')[2])).size).toBe(3); // one message each
    await runner.stop();
    await done;
    await world.queue.ack(taken.map((m) => m.lease));
  });

  it('hibernate with the hold policy: the leases outlive a freeze longer than the visibility timeout, and the jobs complete once after the resume', async () => {
    const world = await factory.create({ visibilitySeconds: 4 });
    const claims = new ClaimStore({ table: world.table, partition: `claims-${randomUUID().slice(0, 8)}` });
    const progress: Progress = { rows: new Map(), startedFrom: new Map() };
    const ids = ['a', 'b', 'c'];
    await sendCounts(world.queue, ids, 200);

    const source = new ManualInterruptionSource();
    const runner = await Runner.create({
      queue: world.queue,
      concurrency: 4,
      visibilityTimeoutSeconds: 4,
      pollWaitSeconds: 1,
      checkpoints: world.blobs,
      interruptions: { sources: [source], hibernate: { policy: 'hold', holdSeconds: 120 } },
      job: { type: 'count', ...counting(world, claims, progress, 20) },
    });
    const succeeded = collect(runner, 'job:succeeded');
    const revalidated = collect(runner, 'leases:revalidated');
    const done = runner.run();
    await source.watched();
    await vi.waitFor(() => expect(progress.rows.size).toBe(3), { timeout: 20_000, interval: 20 });

    await source.emit({ kind: 'hibernate', at: Date.now(), source: 'manual' });
    // The host "sleeps": this process freezes for 1.5× the visibility timeout (no heartbeats).
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 6_000);
    // Nothing came back to the queue meanwhile.
    expect(await world.queue.receive({ maxMessages: 10, visibilitySeconds: 60, waitSeconds: 1 })).toEqual([]);

    await source.emit({ kind: 'resume', at: Date.now(), source: 'manual' });
    expect(revalidated).toMatchObject([
      { trigger: 'resume', leases: 3, leasesLost: 0, claims: 3, claimsLost: 0 },
    ]);
    await vi.waitFor(() => expect(succeeded).toHaveLength(3), { timeout: 30_000, interval: 50 });
    await runner.stop();
    await done;

    expect(succeeded.every((j) => j.attempt === 1)).toBe(true);
    for (const id of ids) {
      expect(await claims.get(`count#${id}`)).toMatchObject({
        completed: true,
        result: { rows: 200, startedFrom: [0] },
      });
    }
    expect(await world.queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });
});
