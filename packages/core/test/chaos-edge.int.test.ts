// Chaos, real processes, at the edges of the interruption protocol (local backend):
// - a spot notice that is already inside the release margin when it is seen: nothing to wait
//   for, every message is released at once and another worker completes them;
// - a lone worker frozen past its leases: once thawed it abandons the stale delivery and
//   completes the job once, on its next delivery, from its own checkpoint;
// - hibernation announced by IMDS (no sleep hook): with the release policy the jobs go back
//   checkpointed; with the hold policy they go on after the freeze. Either way the resume is
//   seen by the resume detector alone, and polling starts again.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { ClaimStore } from '../src/claims/claim-store.ts';
import { startImdsStandIn } from '../src/testing/imds-stand-in.ts';
import { killAllWorkers, pause, startChaosWorker, tally } from './fixtures/chaos-cluster.ts';
import { type ChaosResult, chaosBody, chaosClaimKey } from './fixtures/chaos-job.ts';
import { localWorld } from './support/runner-worlds.ts';

afterEach(killAllWorkers);

describe('interruption edge cases with worker processes on the local backend', () => {
  it('a spot notice already inside the release margin: every message is released at once, the worker exits 0 and another completes them', async () => {
    const imds = await startImdsStandIn();
    onTestFinished(() => imds.close());
    const visibilitySeconds = 30;
    const world = await localWorld.create({ visibilitySeconds });
    const claimPartition = `chaos-late-${randomUUID().slice(0, 8)}`;
    const claims = new ClaimStore({ table: world.table, partition: claimPartition });
    const ids = ['l1', 'l2', 'l3', 'l4'];
    const sent = await world.queue.send(
      ids.map((id) => ({ body: chaosBody({ id, steps: 200, stepMs: 20 }) })),
    );
    const base = { world: world.config, claimPartition, visibilitySeconds, concurrency: 4 };

    const a = await startChaosWorker({
      ...base,
      worker: 'A',
      imds: { url: imds.url, pollIntervalMs: 250 },
      releaseMarginMs: 5_000,
    });
    await a.waitFor(
      (lines) => lines.filter((l) => l.ev === 'start').length === 4,
      30_000,
      'all 4 jobs started',
    );
    // Due in 2 s, with a 5 s margin: the deadline has passed before the notice is even seen.
    imds.setInstanceAction({ action: 'terminate', time: Date.now() + 2_000 });
    expect(await a.exited, a.stderr()).toEqual({ code: 0, signal: null });
    expect(a.events('notice')).toMatchObject([{ kind: 'terminate', reaction: 'stop' }]);
    expect(tally(a.events('release-confirmed').flatMap((l) => l.ids ?? []))).toEqual(
      new Map(sent.map((id) => [id, 1])),
    );
    for (const ev of ['returned', 'succeeded', 'acked']) expect(a.events(ev), ev).toEqual([]);

    const b = await startChaosWorker({ ...base, worker: 'B' });
    await b.waitFor((lines) => lines.filter((l) => l.ev === 'succeeded').length === 4, 60_000, '4 successes');
    b.signal('SIGTERM');
    expect((await b.exited).code, b.stderr()).toBe(0);
    for (const id of ids) {
      expect((await claims.get(chaosClaimKey(id)))?.result).toMatchObject({ id, worker: 'B', steps: 200 });
    }
    expect(await world.queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  }, 120_000);

  it('a lone worker frozen for 3× the visibility timeout abandons the stale delivery and completes the job once on the next, from its checkpoint', async () => {
    const visibilitySeconds = 3;
    const world = await localWorld.create({ visibilitySeconds });
    const claimPartition = `chaos-lone-${randomUUID().slice(0, 8)}`;
    const claims = new ClaimStore({ table: world.table, partition: claimPartition });
    const [sent] = await world.queue.send([{ body: chaosBody({ id: 'lone', steps: 100, stepMs: 40 }) }]);

    const a = await startChaosWorker({
      worker: 'A',
      world: world.config,
      claimPartition,
      visibilitySeconds,
      concurrency: 2,
      checkpointEvery: 5,
      resumeDetector: { intervalMs: 250, jumpThresholdMs: 1_500 },
    });
    await a.waitFor(
      (lines) => lines.some((l) => l.ev === 'checkpoint' && (l.step ?? 0) >= 10),
      30_000,
      'progress',
    );
    a.signal('SIGSTOP');
    await pause(3 * visibilitySeconds * 1000);
    a.signal('SIGCONT');

    await a.waitFor((lines) => lines.some((l) => l.ev === 'succeeded'), 60_000, 'the job to succeed');
    a.signal('SIGTERM');
    expect((await a.exited).code, a.stderr()).toBe(0);

    // The first delivery was abandoned (never acked), the second completed from a checkpoint.
    expect(a.events('released')).toMatchObject([{ attempt: 1, reason: 'lease-lost' }]);
    expect(a.events('succeeded')).toMatchObject([{ msg: sent, attempt: 2 }]);
    expect(tally(a.events('acked').flatMap((l) => l.ids ?? []))).toEqual(new Map([[sent, 1]]));
    const result = (await claims.get(chaosClaimKey('lone')))?.result as unknown as ChaosResult;
    expect(result).toMatchObject({ id: 'lone', worker: 'A', attempt: 2, steps: 100 });
    expect(result.from).toBeGreaterThanOrEqual(10);
    expect(await world.queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect((await world.blobs.list({ prefix: 'checkpoints/' })).items).toEqual([]);
  }, 120_000);

  it.each([
    { policy: 'release' as const, attempt: 2 },
    { policy: 'hold' as const, attempt: 1 },
  ])(
    'an IMDS hibernate notice with the $policy policy, a freeze longer than the visibility timeout, a resume seen by the resume detector: each job completes once and polling resumes',
    async ({ policy, attempt }) => {
      const imds = await startImdsStandIn();
      onTestFinished(() => imds.close());
      const visibilitySeconds = 3;
      const world = await localWorld.create({ visibilitySeconds });
      const claimPartition = `chaos-imds-${policy}-${randomUUID().slice(0, 8)}`;
      const claims = new ClaimStore({ table: world.table, partition: claimPartition });
      const ids = ['h1', 'h2'];
      const sent = await world.queue.send(
        ids.map((id) => ({ body: chaosBody({ id, steps: 100, stepMs: 30 }) })),
      );

      const a = await startChaosWorker({
        worker: 'A',
        world: world.config,
        claimPartition,
        visibilitySeconds,
        concurrency: 4,
        checkpointEvery: 10,
        imds: { url: imds.url, pollIntervalMs: 250 },
        resumeDetector: { intervalMs: 250, jumpThresholdMs: 1_500 },
        hibernate: policy === 'hold' ? { policy, holdSeconds: 60 } : { policy, graceMs: 2_000 },
      });
      await a.waitFor((lines) => lines.filter((l) => l.ev === 'checkpoint').length >= 2, 30_000, 'progress');
      imds.setInstanceAction({ action: 'hibernate', time: Date.now() });
      await a.waitFor(
        (lines) => lines.some((l) => l.ev === 'handled' && l.kind === 'hibernate'),
        20_000,
        'hibernate',
      );
      a.signal('SIGSTOP');
      await pause(2 * visibilitySeconds * 1000);
      a.signal('SIGCONT');
      await a.waitFor(
        (lines) => lines.filter((l) => l.ev === 'succeeded').length === 2,
        60_000,
        '2 successes',
      );
      // Polling goes on after the resume: a new job is taken and done.
      const [later] = await world.queue.send([{ body: chaosBody({ id: 'later', steps: 1, stepMs: 1 }) }]);
      await a.waitFor(
        (lines) => lines.some((l) => l.ev === 'succeeded' && l.msg === later),
        30_000,
        'a later job',
      );
      a.signal('SIGTERM');
      expect((await a.exited).code, a.stderr()).toBe(0);

      expect(a.events('notice')).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'hibernate', reaction: policy }),
          expect.objectContaining({ kind: 'resume', source: 'resume-detector' }),
        ]),
      );
      expect(tally(a.events('acked').flatMap((l) => l.ids ?? []))).toEqual(
        new Map([...sent, later as string].map((id) => [id, 1])),
      );
      for (const id of ids) {
        const result = (await claims.get(chaosClaimKey(id)))?.result as unknown as ChaosResult;
        expect(result, id).toMatchObject({ id, worker: 'A', steps: 100 });
        // (With the release policy a poll still in flight takes the released message back once more
        // and gives it back at once, see the next test: the attempt can be one higher.)
        expect(result.attempt, id).toBeGreaterThanOrEqual(attempt);
        // Released: resumed from the checkpoint taken at the notice; held: never restarted.
        if (policy === 'release') expect(result.from).toBeGreaterThan(0);
        else expect(result.from).toBe(0);
      }
      expect(a.events('lease-lost')).toEqual([]);
      expect(await world.queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    },
    120_000,
  );

  // Fails today (see the report): the runner never cancels the receive in flight when it pauses
  // (runner.ts #applyHolds), and its own release(0) wakes that very poll (LocalQueue rings the
  // in-process doorbell; an open SQS long poll is handed the message the same way), so each
  // message it gives back is received once more by the host about to sleep and released again:
  // two receives per hibernation instead of one, which eats into maxAttempts and SQS's
  // maxReceiveCount, and on SQS leaves the message hidden for a visibility timeout if the host
  // freezes before that answer is handled.
  it('the hibernate release policy gives each message back once: the poll in flight does not take it back', async () => {
    const visibilitySeconds = 30;
    const world = await localWorld.create({ visibilitySeconds });
    const claimPartition = `chaos-once-${randomUUID().slice(0, 8)}`;
    const sent = await world.queue.send(
      ['o1', 'o2'].map((id) => ({ body: chaosBody({ id, steps: 1_000, stepMs: 20 }) })),
    );
    // 2 jobs on 4 slots: a receive is in flight while they run.
    const a = await startChaosWorker({
      worker: 'A',
      world: world.config,
      claimPartition,
      visibilitySeconds,
      concurrency: 4,
      manual: true,
      hibernate: { policy: 'release', graceMs: 2_000 },
    });
    await a.waitFor((lines) => lines.filter((l) => l.ev === 'start').length === 2, 30_000, '2 jobs started');
    await pause(400); // past the poll linger: the next receive (1 s long poll) is in flight now
    a.notify({ kind: 'hibernate', inMs: 0 });
    await a.waitFor(
      (lines) => lines.some((l) => l.ev === 'handled' && l.kind === 'hibernate'),
      20_000,
      'hibernate',
    );
    await pause(1_500); // a poll wait and then some: whatever the poll in flight took is back

    // Another host takes them over: each on its second delivery.
    const taken = await world.queue.receive({ maxMessages: 10, visibilitySeconds: 60, waitSeconds: 1 });
    expect(taken.map((m) => m.id).sort()).toEqual([...sent].sort());
    expect(a.events('released').map((l) => l.attempt)).toEqual([1, 1]);
    expect(taken.map((m) => m.receiveCount)).toEqual([2, 2]);
  }, 60_000);
});
