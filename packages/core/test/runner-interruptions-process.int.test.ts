// A spot notice through a real IMDS protocol (the stand-in) to a worker process: it releases
// its 8 jobs in flight with their checkpoints well before the deadline and exits 0 by itself;
// a second worker process resumes every job from its checkpoint; one result each.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it, onTestFinished, vi } from 'vitest';
import { ClaimStore } from '../src/claims/claim-store.ts';
import { startImdsStandIn } from '../src/testing/imds-stand-in.ts';
import { awsWorld, localWorld, type RunnerWorldFactory } from './support/runner-worlds.ts';

const workerScript = fileURLToPath(new URL('./fixtures/runner-interruptible-worker.ts', import.meta.url));
const worlds: RunnerWorldFactory[] = [awsWorld(inject('emulators')), localWorld];

interface LogLine {
  readonly msg?: string;
  /** ISO time (createLogger's format). */
  readonly time: string;
  readonly [key: string]: unknown;
}

function startWorker(env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [workerScript], {
    env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: LogLine[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(JSON.parse(line) as LogLine));
  return { child, lines, exited, named: (msg: string) => lines.filter((l) => l.msg === msg) };
}

describe.each(worlds)('a worker process on the $name backends', (factory) => {
  it('on an IMDS terminate notice releases its 8 jobs with checkpoints before the deadline and exits 0; another worker resumes them, one result each', async () => {
    const world = await factory.create({ visibilitySeconds: 60 });
    const imds = await startImdsStandIn();
    onTestFinished(() => imds.close());
    const partition = `claims-${randomUUID().slice(0, 8)}`;
    const ids = Array.from({ length: 8 }, (_, i) => `job-${i}`);
    await world.queue.send(
      ids.map((id) => ({ body: JSON.stringify({ type: 'count', id, to: 1_500, stepMs: 5 }) })),
    );
    const common = {
      WORKER_WORLD: JSON.stringify(world.config),
      WORKER_CLAIM_PARTITION: partition,
      WORKER_VISIBILITY_SECONDS: '60',
      WORKER_CONCURRENCY: '10',
    };

    const a = startWorker({
      ...common,
      WORKER_NAME: 'a',
      WORKER_IMDS_URL: imds.url,
      WORKER_IMDS_POLL_MS: '1000',
    });
    await vi.waitFor(() => expect(a.named('working')).toHaveLength(8), { timeout: 20_000, interval: 50 });

    const noticeSetAt = Date.now();
    const at = noticeSetAt + 30_000;
    imds.setInstanceAction({ action: 'terminate', time: new Date(at) });
    const [code, signal] = await a.exited;
    const exitedAt = Date.now();

    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(exitedAt).toBeLessThan(at - 5_000);
    expect(a.named('interruption notice')).toMatchObject([
      { kind: 'terminate', source: 'imds', reaction: 'stop' },
    ]);
    const [handled] = a.named('reaction complete');
    expect(handled).toMatchObject({ kind: 'terminate', reaction: 'stop' });
    expect(Date.parse(handled!.time)).toBeLessThan(at - 5_000);
    expect(new Set(a.named('checkpointed').map((l) => l.id))).toEqual(new Set(ids));
    const released = a.lines.filter((l) => l.outcome === 'released');
    expect(new Set(released.map((l) => l.messageId)).size).toBe(8);
    expect(released.every((l) => l.reason === 'interrupted')).toBe(true);
    expect(a.lines.at(-1)).toMatchObject({ msg: 'runner stopped' });

    const b = startWorker({ ...common, WORKER_NAME: 'b' });
    await vi.waitFor(() => expect(b.named('job succeeded')).toHaveLength(8), {
      timeout: 40_000,
      interval: 100,
    });
    b.child.kill('SIGTERM');
    expect(await b.exited).toEqual([0, null]);

    const claims = new ClaimStore({ table: world.table, partition });
    for (const id of ids) {
      const state = await claims.get(`count#${id}`);
      expect(state).toMatchObject({ completed: true, result: { id, rows: 1_500, worker: 'b' } });
      const startedFrom = state!.result!.startedFrom as number[];
      expect(startedFrom[0]).toBe(0);
      expect(startedFrom.at(-1)).toBeGreaterThan(0); // resumed from a's checkpoint
    }
    expect(await world.queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(await world.deadLetters()).toEqual([]);
  });
});
