// Chaos, real processes, with SIGSTOP standing in for a hibernated host (the process freezes,
// the queue's visibility timeouts keep running):
// - a worker frozen for 3× the visibility timeout loses its job to another worker, which
//   completes it; once thawed, the frozen one writes nothing (no result, no ack, no checkpoint);
// - with the hold policy and a single worker, a hibernate notice from the real system-sleep
//   hook holds the lease through a freeze longer than the visibility timeout, and after the
//   resume the job goes on and completes once.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, inject, it, onTestFinished } from 'vitest';
import { ClaimStore } from '../src/claims/claim-store.ts';
import { eventually, killAllWorkers, pause, startChaosWorker, tally } from './fixtures/chaos-cluster.ts';
import { type ChaosResult, chaosBody, chaosClaimKey } from './fixtures/chaos-job.ts';
import { awsWorld, localWorld, type RunnerWorldFactory } from './support/runner-worlds.ts';

const worlds: RunnerWorldFactory[] = [awsWorld(inject('emulators')), localWorld];
const hook = fileURLToPath(new URL('../../../systemd/system-sleep/spotjobs', import.meta.url));

afterEach(killAllWorkers);

/** Runs the system-sleep hook under `sh` as systemd would (`pre|post hibernate`); answers its log line. */
async function runSleepHook(phase: 'pre' | 'post', socket: string): Promise<string> {
  const { stderr } = await promisify(execFile)('sh', [hook, phase, 'hibernate'], {
    env: { ...process.env, SPOTJOBS_SLEEP_SOCKET: socket, SPOTJOBS_SLEEP_HOOK_TIMEOUT: '20' },
  });
  return stderr;
}

async function tempSocketPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spotjobs-chaos-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'sleep.sock');
}

describe.each(worlds)('hibernation stand-ins (SIGSTOP) on the $name backends', (factory) => {
  it('a worker frozen for 3× the visibility timeout loses its job to another, which completes it; thawed, it writes nothing', async () => {
    const visibilitySeconds = 3;
    const world = await factory.create({ visibilitySeconds });
    const claimPartition = `chaos-freeze-${randomUUID().slice(0, 8)}`;
    const claims = new ClaimStore({ table: world.table, partition: claimPartition });
    const steps = 100; // 4 s of work, checkpointed every 5 steps (0.2 s)
    const [sent] = await world.queue.send([{ body: chaosBody({ id: 'frozen', steps, stepMs: 40 }) }]);
    const base = {
      world: world.config,
      claimPartition,
      visibilitySeconds,
      concurrency: 1,
      checkpointEvery: 5,
    };
    const resumeDetector = { intervalMs: 250, jumpThresholdMs: 1_500 };

    const a = await startChaosWorker({ ...base, worker: 'A', resumeDetector });
    await a.waitFor(
      (lines) => lines.some((l) => l.ev === 'checkpoint' && (l.step ?? 0) >= 10),
      30_000,
      'progress',
    );
    const b = await startChaosWorker({ ...base, worker: 'B', resumeDetector });
    a.signal('SIGSTOP');
    const frozenAt = Date.now();

    // B takes the job over once A's lease (and claim) lapsed, and completes it.
    await b.waitFor((lines) => lines.some((l) => l.ev === 'succeeded'), 60_000, 'the job to succeed on B');
    await pause(frozenAt + 3 * visibilitySeconds * 1000 - Date.now());
    const thawedAt = Date.now();
    a.signal('SIGCONT');

    // A finds out its lease moved on and abandons the job.
    await a.waitFor(
      (lines) => lines.some((l) => l.ev === 'released' && l.reason === 'lease-lost'),
      30_000,
      'A to abandon its job',
    );
    a.signal('SIGTERM');
    b.signal('SIGTERM');
    expect((await a.exited).code, a.stderr()).toBe(0);
    expect((await b.exited).code, b.stderr()).toBe(0);

    // Thawed, A wrote nothing: no checkpoint, no result, no ack, no release.
    expect(a.lines.filter((l) => l.ev === 'checkpoint' && l.t >= thawedAt)).toEqual([]);
    for (const ev of ['returned', 'succeeded', 'acked', 'release-confirmed'])
      expect(a.events(ev), ev).toEqual([]);
    // One result, B's, resumed from a checkpoint A wrote before it froze.
    const frozenAtStep = Math.max(...a.events('checkpoint').map((l) => l.step ?? 0));
    const state = await claims.get(chaosClaimKey('frozen'));
    expect(state?.completed).toBe(true);
    const result = state?.result as unknown as ChaosResult;
    expect(result).toMatchObject({ id: 'frozen', worker: 'B', pid: b.pid, steps });
    expect(result.from).toBeGreaterThan(0);
    expect(result.from).toBeLessThanOrEqual(frozenAtStep);
    expect(tally(b.events('acked').flatMap((l) => l.ids ?? []))).toEqual(new Map([[sent, 1]]));
    // No checkpoint written after B's success cleared them (A's would have survived).
    expect((await world.blobs.list({ prefix: 'checkpoints/' })).items).toEqual([]);
    expect(await world.queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  }, 150_000);

  it('hold policy, single worker: the lease outlives a freeze longer than the visibility timeout and the job completes once after the resume', async () => {
    const visibilitySeconds = 3;
    const world = await factory.create({ visibilitySeconds });
    const claimPartition = `chaos-hold-${randomUUID().slice(0, 8)}`;
    const claims = new ClaimStore({ table: world.table, partition: claimPartition });
    const socket = await tempSocketPath();
    const steps = 100; // 4 s of work
    const [sent] = await world.queue.send([{ body: chaosBody({ id: 'held', steps, stepMs: 40 }) }]);

    const a = await startChaosWorker({
      worker: 'A',
      world: world.config,
      claimPartition,
      visibilitySeconds,
      concurrency: 2,
      checkpointEvery: 10,
      sleepHookSocket: socket,
      resumeDetector: { intervalMs: 250, jumpThresholdMs: 1_500 },
      hibernate: { policy: 'hold', holdSeconds: 60 },
    });
    await eventually(async () => expect((await stat(socket)).isSocket()).toBe(true), 20_000);
    await a.waitFor((lines) => lines.some((l) => l.ev === 'checkpoint'), 30_000, 'progress');

    // The host is about to hibernate: the hook returns once the leases are held.
    expect(await runSleepHook('pre', socket)).toContain('daemon acknowledged');
    // The worker printed these before it answered the hook; its stdout may still be on the way.
    await a.waitFor((lines) => lines.some((l) => l.ev === 'handled'), 10_000, 'the hold to be reported');
    expect(a.events('notice')).toMatchObject([{ kind: 'hibernate', source: 'sleep-hook', reaction: 'hold' }]);
    expect(a.events('handled')).toMatchObject([{ kind: 'hibernate', reaction: 'hold' }]);

    // Frozen for twice the visibility timeout (well inside the 60 s hold): nothing lapses.
    a.signal('SIGSTOP');
    await pause(2 * visibilitySeconds * 1000);
    expect(await world.queue.depth()).toMatchObject({ visible: 0, inFlight: 1 });
    a.signal('SIGCONT');
    expect(await runSleepHook('post', socket)).toContain('daemon acknowledged');

    await a.waitFor((lines) => lines.some((l) => l.ev === 'succeeded'), 60_000, 'the job to succeed');
    a.signal('SIGTERM');
    expect((await a.exited).code, a.stderr()).toBe(0);

    // Resumed, re-validated without loss, completed once by its first delivery.
    const revalidated = a.events('revalidated');
    expect(revalidated.length).toBeGreaterThan(0);
    expect(revalidated.every((l) => l.leasesLost === 0 && l.claimsLost === 0)).toBe(true);
    expect(a.events('start')).toMatchObject([{ id: 'held', attempt: 1, from: 0 }]);
    for (const ev of ['lease-lost', 'claim-lost', 'released', 'checkpoint-refused']) {
      expect(a.events(ev), ev).toEqual([]);
    }
    expect(tally(a.events('acked').flatMap((l) => l.ids ?? []))).toEqual(new Map([[sent, 1]]));
    const state = await claims.get(chaosClaimKey('held'));
    expect(state).toMatchObject({
      completed: true,
      result: { id: 'held', worker: 'A', attempt: 1, from: 0, steps },
    });
    expect(await world.queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  }, 150_000);
});
