// Chaos, real processes: a spot notice reaches worker A through its IMDS poller (a real
// IMDSv2 stand-in, switched to `terminate` ~10 s ahead) while 8 jobs run there. A
// checkpoints and releases every one before the notice time minus its margin and exits 0;
// worker B, already polling, finishes them from their checkpoints: nothing lost, nothing
// done twice.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it, onTestFinished } from 'vitest';
import { ClaimStore } from '../src/claims/claim-store.ts';
import { startImdsStandIn } from '../src/testing/imds-stand-in.ts';
import { killAllWorkers, startChaosWorker, tally } from './fixtures/chaos-cluster.ts';
import { type ChaosResult, chaosBody, chaosClaimKey } from './fixtures/chaos-job.ts';
import type { ChaosLine } from './fixtures/chaos-worker-config.ts';
import { awsWorld, localWorld, type RunnerWorldFactory } from './support/runner-worlds.ts';

const worlds: RunnerWorldFactory[] = [awsWorld(inject('emulators')), localWorld];

afterEach(killAllWorkers);

/** The last step each job checkpointed. */
function lastCheckpoints(lines: readonly ChaosLine[]): Map<string, number> {
  const steps = new Map<string, number>();
  for (const l of lines) if (l.ev === 'checkpoint' && l.id) steps.set(l.id, l.step ?? 0);
  return steps;
}

describe.each(worlds)('a spot notice with 8 jobs in flight on the $name backends', (factory) => {
  it('worker A releases or checkpoints every job before the deadline and exits 0; worker B resumes them from their checkpoints; zero lost, zero duplicates', async () => {
    const imds = await startImdsStandIn();
    onTestFinished(() => imds.close());
    const visibilitySeconds = 10;
    const releaseMarginMs = 5_000;
    const world = await factory.create({ visibilitySeconds });
    const claimPartition = `chaos-spot-${randomUUID().slice(0, 8)}`;
    const claims = new ClaimStore({ table: world.table, partition: claimPartition });
    const ids = Array.from({ length: 8 }, (_, i) => `spot-${i}`);
    const steps = 300; // 6 s of work each, checkpointed every 25 steps (0.5 s)
    const sent = await world.queue.send(ids.map((id) => ({ body: chaosBody({ id, steps, stepMs: 20 }) })));
    const base = { world: world.config, claimPartition, visibilitySeconds, concurrency: 8 };

    const a = await startChaosWorker({
      ...base,
      worker: 'A',
      checkpointEvery: 25,
      imds: { url: imds.url, pollIntervalMs: 1_000 },
      releaseMarginMs,
    });
    await a.waitFor((lines) => lastCheckpoints(lines).size === 8, 30_000, 'a checkpoint of every job');
    // B polls an empty queue until A gives the jobs back.
    const b = await startChaosWorker({ ...base, worker: 'B' });

    const noticeTime = Date.now() + 10_000;
    imds.setInstanceAction({ action: 'terminate', time: noticeTime });
    const servedAt = Math.floor(noticeTime / 1000) * 1000; // IMDS times are to the second
    const deadline = servedAt - releaseMarginMs;
    const exit = await a.exited;
    expect(exit, a.stderr()).toEqual({ code: 0, signal: null });

    // A: one terminate notice, reacted to by stopping; every job released and its release
    // confirmed by the queue before the notice time minus the margin; nothing acked.
    expect(a.events('notice')).toMatchObject([{ kind: 'terminate', at: servedAt, reaction: 'stop' }]);
    expect(a.events('handled')).toMatchObject([{ kind: 'terminate', reaction: 'stop' }]);
    expect(a.events('released').map((l) => l.reason)).toEqual(Array(8).fill('interrupted'));
    const releases = a.events('release-confirmed');
    expect(tally(releases.flatMap((l) => l.ids ?? []))).toEqual(new Map(sent.map((id) => [id, 1])));
    for (const line of releases) expect(line.t).toBeLessThan(deadline);
    for (const ev of ['returned', 'succeeded', 'acked']) expect(a.events(ev), ev).toEqual([]);
    expect(a.events('exit')).toMatchObject([{ state: 'STOPPED' }]);
    // Each job checkpointed its position when interrupted (after the notice arrived).
    const noticeSeenAt = a.events('notice')[0]?.t ?? Number.POSITIVE_INFINITY;
    const atNotice = a.lines.filter((l) => l.ev === 'checkpoint' && l.t >= noticeSeenAt);
    expect(new Set(atNotice.map((l) => l.id))).toEqual(new Set(ids));
    const handedOver = lastCheckpoints(a.lines);

    // B finishes all 8, each from A's last checkpoint.
    await b.waitFor((lines) => lines.filter((l) => l.ev === 'succeeded').length === 8, 90_000, '8 successes');
    b.signal('SIGTERM');
    expect((await b.exited).code, b.stderr()).toBe(0);
    expect(b.events('start')).toHaveLength(8);
    for (const start of b.events('start')) {
      expect(start.from, start.id).toBe(handedOver.get(start.id ?? ''));
      expect(start.from).toBeGreaterThan(0);
    }
    for (const id of ids) {
      const state = await claims.get(chaosClaimKey(id));
      expect(state?.completed, id).toBe(true);
      expect(state?.result as unknown as ChaosResult).toMatchObject({
        id,
        worker: 'B',
        from: handedOver.get(id),
        steps,
      });
    }
    // Zero duplicates: one success and one ack per message, all on B.
    expect(tally(b.events('succeeded').map((l) => l.msg ?? ''))).toEqual(new Map(sent.map((id) => [id, 1])));
    expect(tally(b.events('acked').flatMap((l) => l.ids ?? []))).toEqual(new Map(sent.map((id) => [id, 1])));
    expect(b.events('duplicate')).toEqual([]);
    // Zero lost: nothing left anywhere; the checkpoints were cleared after the successes.
    expect(await world.queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(await world.deadLetters()).toEqual([]);
    expect((await world.blobs.list({ prefix: 'checkpoints/' })).items).toEqual([]);
  }, 150_000);
});
