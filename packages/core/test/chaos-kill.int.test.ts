// Chaos, real processes: a worker is killed with SIGKILL in the middle of its jobs. Their
// messages come back after the visibility timeout, a second worker completes each exactly
// once in effect (one completed claim with its result, one ack), and the killed worker left
// nothing behind (no result, no ack, no release).
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { ClaimStore } from '../src/claims/claim-store.ts';
import { killAllWorkers, startChaosWorker, tally } from './fixtures/chaos-cluster.ts';
import { type ChaosResult, chaosBody, chaosClaimKey } from './fixtures/chaos-job.ts';
import { awsWorld, localWorld, type RunnerWorldFactory } from './support/runner-worlds.ts';

const worlds: RunnerWorldFactory[] = [awsWorld(inject('emulators')), localWorld];

afterEach(killAllWorkers);

describe.each(worlds)('kill -9 of a worker process mid-job on the $name backends', (factory) => {
  it('its messages come back after the visibility timeout and complete exactly once in effect; the killed worker wrote nothing', async () => {
    const visibilitySeconds = 4;
    const world = await factory.create({ visibilitySeconds });
    const claimPartition = `chaos-kill-${randomUUID().slice(0, 8)}`;
    const claims = new ClaimStore({ table: world.table, partition: claimPartition });
    const ids = ['k1', 'k2', 'k3', 'k4'];
    // 2 s of work each: long enough to be killed in the middle.
    const sent = await world.queue.send(
      ids.map((id) => ({ body: chaosBody({ id, steps: 40, stepMs: 50 }) })),
    );
    const base = { world: world.config, claimPartition, visibilitySeconds, concurrency: 4 };

    const a = await startChaosWorker({ ...base, worker: 'A' });
    await a.waitFor(
      (lines) => lines.filter((l) => l.ev === 'start').length === 4,
      30_000,
      'all 4 jobs started',
    );
    a.signal('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');

    const b = await startChaosWorker({ ...base, worker: 'B' });
    await b.waitFor((lines) => lines.filter((l) => l.ev === 'succeeded').length === 4, 90_000, '4 successes');
    b.signal('SIGTERM');
    expect((await b.exited).code, b.stderr()).toBe(0);

    // The killed worker wrote nothing: no result, no ack, no release, no dead-letter.
    for (const ev of ['returned', 'succeeded', 'acked', 'release-confirmed', 'dead-letter-confirmed']) {
      expect(a.events(ev), ev).toEqual([]);
    }
    // Nobody released them: each came back by its lease running out (a later delivery).
    const restarts = b.events('start');
    expect(new Set(restarts.map((l) => l.id))).toEqual(new Set(ids));
    expect(restarts.every((l) => (l.attempt ?? 0) >= 2)).toBe(true);

    // Exactly once in effect: one completed claim per job, written by B; one ack per message.
    for (const id of ids) {
      const state = await claims.get(chaosClaimKey(id));
      expect(state?.completed, id).toBe(true);
      const result = state?.result as unknown as ChaosResult;
      expect(result).toMatchObject({ id, worker: 'B', pid: b.pid, steps: 40 });
    }
    const acked = tally(b.events('acked').flatMap((l) => l.ids ?? []));
    expect(new Set(acked.keys())).toEqual(new Set(sent));
    expect([...acked.values()].every((n) => n === 1)).toBe(true);
    expect(tally(b.events('succeeded').map((l) => l.msg ?? '')).size).toBe(4);
    expect(b.events('duplicate')).toEqual([]);

    expect(await world.queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(await world.deadLetters()).toEqual([]);
    expect((await world.blobs.list({ prefix: 'checkpoints/' })).items).toEqual([]);
  }, 150_000);
});
