// Chaos soak, real processes: 10 000 messages (5 % poison: malformed JSON, schema
// violations, jobs that throw PermanentJobError) through 3 worker processes on one local data
// dir, while a chaos loop kills workers with SIGKILL and sends them spot notices through their
// own IMDS stand-ins; every worker that dies or exits is replaced. In the end every good
// message is completed exactly once in effect (one completed claim per job, one result each)
// and every poison one is in the dead-letter queue exactly once, with its reason.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { ClaimStore } from '../src/claims/claim-store.ts';
import { DeadLetterAttributes } from '../src/ports/queue.ts';
import type { TableItem } from '../src/ports/table.ts';
import { type ImdsStandIn, startImdsStandIn } from '../src/testing/imds-stand-in.ts';
import {
  type ChaosWorker,
  eventually,
  killAllWorkers,
  linesOf,
  pause,
  startChaosWorker,
  tally,
} from './fixtures/chaos-cluster.ts';
import { type ChaosResult, chaosBody, chaosClaimKey } from './fixtures/chaos-job.ts';
import { tempStore } from './fixtures/local-temp-store.ts';
import type { WorldConfig } from './fixtures/runner-world.ts';
import { localWorld } from './support/runner-worlds.ts';

afterEach(killAllWorkers);

const total = 10_000;
const poisonShare = 0.05;
const slots = 3;
const visibilitySeconds = 5;
const releaseMarginMs = 2_000;
/** Chaos events (kill -9 or spot notice) at most; they stop earlier once the work is done. */
const maxChaosEvents = 40;

type PoisonKind = 'malformed' | 'schema' | 'permanent';
const poisonKinds: readonly PoisonKind[] = ['malformed', 'schema', 'permanent'];
const expectedReason: Record<PoisonKind, RegExp> = {
  malformed: /^malformed JSON: /,
  schema: /^schema violation for type "chaos": /,
  permanent: /^permanent failure: job p-\d+ is poison by design$/,
};

interface Planned {
  readonly body: string;
  readonly id: string;
  readonly poison: PoisonKind | undefined;
}

function plan(random: () => number): Planned[] {
  const poisonCount = Math.round(total * poisonShare);
  const planned: Planned[] = [];
  for (let i = 0; i < poisonCount; i++) {
    const kind = poisonKinds[i % poisonKinds.length] as PoisonKind;
    const id = `p-${i}`;
    const body =
      kind === 'malformed'
        ? `{"type":"chaos","id":"${id}","steps":` // cut short
        : kind === 'schema'
          ? JSON.stringify({ type: 'chaos', id, steps: -1, stepMs: 'slow' })
          : chaosBody({ id, steps: 1, stepMs: 1, fail: 'permanent' });
    planned.push({ body, id, poison: kind });
  }
  for (let i = 0; planned.length < total; i++) {
    const id = `g-${i}`;
    // 10–100 ms of work: dozens of jobs in flight on each worker when the chaos strikes.
    const steps = 1 + Math.floor(random() * 5);
    planned.push({
      body: chaosBody({ id, steps, stepMs: 10 + Math.floor(random() * 11) }),
      id,
      poison: undefined,
    });
  }
  // Fisher–Yates: poison spread through the run.
  for (let i = planned.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [planned[i], planned[j]] = [planned[j] as Planned, planned[i] as Planned];
  }
  return planned;
}

describe('chaos soak on the local backend', () => {
  it('10 000 messages, 3 workers, random kill -9s and spot notices, 5 % poison: every good message completed exactly once in effect, every poison one dead-lettered once with its reason', async () => {
    const world = await localWorld.create({ visibilitySeconds });
    const claimPartition = `chaos-soak-${randomUUID().slice(0, 8)}`;
    const claims = new ClaimStore({ table: world.table, partition: claimPartition });
    const planned = plan(Math.random);
    const sentIds: string[] = [];
    for (let i = 0; i < planned.length; i += 500) {
      sentIds.push(...(await world.queue.send(planned.slice(i, i + 500).map((p) => ({ body: p.body })))));
    }
    const byMessage = new Map(sentIds.map((messageId, i) => [messageId, planned[i] as Planned]));
    const good = planned.filter((p) => p.poison === undefined);
    const { dataDir, queueName } = world.config as Extract<WorldConfig, { backend: 'local' }>;
    const dlq = (await tempStore({ dataDir })).queue(`${queueName}-dlq`);

    const stands: ImdsStandIn[] = await Promise.all(Array.from({ length: slots }, () => startImdsStandIn()));
    onTestFinished(async () => {
      await Promise.all(stands.map((s) => s.close()));
    });
    const all: ChaosWorker[] = [];
    const current: (ChaosWorker | undefined)[] = Array(slots).fill(undefined);
    const noticed = new Set<ChaosWorker>();
    const problems: string[] = [];
    let finished = false;

    // Each slot keeps one worker alive: whenever its worker dies or exits, a new one starts.
    const supervise = async (slot: number) => {
      for (let generation = 0; !finished; generation++) {
        try {
          const worker = await startChaosWorker({
            worker: `w${slot}.${generation}`,
            world: world.config,
            claimPartition,
            concurrency: 32,
            visibilitySeconds,
            imds: { url: (stands[slot] as ImdsStandIn).url, pollIntervalMs: 1_000 },
            releaseMarginMs,
          });
          all.push(worker);
          current[slot] = worker;
          await worker.exited;
        } catch (error) {
          if (!finished) problems.push(`slot ${slot}: ${(error as Error).message}`);
        }
        current[slot] = undefined;
        stands[slot]?.setInstanceAction(undefined);
      }
    };

    let chaosEvents = 0;
    const chaos = async () => {
      for (let n = 0; n < maxChaosEvents && !finished; n++) {
        await pause(700 + Math.random() * 1_300);
        const candidates = current.flatMap((w, slot) => (w?.alive && !noticed.has(w) ? [{ w, slot }] : []));
        const pick = candidates[Math.floor(Math.random() * candidates.length)];
        if (!pick || finished) continue;
        chaosEvents++;
        if (n % 2 === 0) {
          pick.w.signal('SIGKILL');
        } else {
          noticed.add(pick.w);
          (stands[pick.slot] as ImdsStandIn).setInstanceAction({
            action: 'terminate',
            time: Date.now() + 10_000,
          });
        }
      }
    };

    const supervisors = Array.from({ length: slots }, (_, slot) => supervise(slot));
    const chaosLoop = chaos();
    try {
      // Done: nothing left in the queue (visible, in flight or delayed) and every poison one dead-lettered.
      await eventually(async () => {
        expect(problems).toEqual([]);
        expect(await world.queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
        expect((await dlq.depth()).visible).toBe(total - good.length);
      }, 240_000);
      finished = true;
      await chaosLoop;
      // A notice set just before the work ran out is still seen and obeyed: a noticed worker
      // stops on its own (it polls its IMDS every second), so wait for that before SIGTERM.
      await Promise.all([...noticed].map((w) => w.exited));
      for (const w of current) w?.signal('SIGTERM');
      await Promise.all(supervisors);
    } finally {
      finished = true;
      await killAllWorkers();
    }

    // The chaos happened: workers were killed and others left on spot notices, replaced each time.
    const killed = all.filter((w) => w.lines.at(-1)?.ev !== 'exit');
    const count = (ev: string) => linesOf(all, ev).length;
    console.info(
      `soak: ${all.length} worker processes, ${killed.length} killed, ${noticed.size} spot notices; ` +
        `handler runs ${count('start')}, results returned ${count('returned')}, succeeded ${count('succeeded')}, ` +
        `duplicates ${count('duplicate')}, deferred ${count('deferred')}, released ${count('released')}, ` +
        `dead-lettered ${count('dead-lettered')}`,
    );
    expect(chaosEvents).toBeGreaterThanOrEqual(4);
    expect(killed.length).toBeGreaterThanOrEqual(2);
    expect(noticed.size).toBeGreaterThanOrEqual(2);
    // A worker told of a spot notice released everything before the notice time minus the margin and exited 0.
    for (const w of noticed) {
      const notice = w.events('notice')[0];
      expect(notice, w.name).toMatchObject({ kind: 'terminate', reaction: 'stop' });
      expect(await w.exited, w.name).toEqual({ code: 0, signal: null });
      for (const release of w.events('release-confirmed')) {
        expect(release.t).toBeLessThan((notice?.at ?? 0) - releaseMarginMs);
      }
    }

    // Every good message: exactly one completed claim, holding its own result, written by a
    // worker whose handler really returned it; no completed claim for any poison message.
    const items: TableItem[] = [];
    for (let cursor: string | undefined, first = true; first || cursor; first = false) {
      const page = await world.table.query(claimPartition, { limit: 1_000, ...(cursor ? { cursor } : {}) });
      items.push(...page.items);
      cursor = page.cursor;
    }
    const completed = items.filter((item) => item.data.completed === true);
    expect(tally(completed.map((item) => item.sk))).toEqual(
      new Map(good.map((p) => [chaosClaimKey(p.id), 1])),
    );
    const returned = new Set(linesOf(all, 'returned').map((l) => `${l.w}|${l.msg}|${l.attempt}`));
    for (const p of good) {
      const state = await claims.get(chaosClaimKey(p.id));
      const result = state?.result as unknown as ChaosResult;
      expect(result?.id, p.id).toBe(p.id);
      const messageId = sentIds[planned.indexOf(p)];
      expect(returned.has(`${result.worker}|${messageId}|${result.attempt}`), p.id).toBe(true);
    }
    // Acks: no message acked twice, and the queue is empty (checked above).
    const acked = tally(linesOf(all, 'acked').flatMap((l) => l.ids ?? []));
    expect([...acked.values()].every((n) => n === 1)).toBe(true);
    for (const messageId of acked.keys()) expect(byMessage.get(messageId)?.poison, messageId).toBeUndefined();
    expect(acked.size).toBeGreaterThan(good.length * 0.99);

    // Every poison message: in the dead-letter queue exactly once, with the reason for its kind.
    const deadLetters = await world.deadLetters();
    const originals = tally(deadLetters.map((m) => m.attributes[DeadLetterAttributes.originalId] ?? ''));
    const poisonIds = sentIds.filter((id) => byMessage.get(id)?.poison !== undefined);
    expect(originals).toEqual(new Map(poisonIds.map((id) => [id, 1])));
    for (const m of deadLetters) {
      const original = byMessage.get(m.attributes[DeadLetterAttributes.originalId] ?? '');
      expect(m.attributes[DeadLetterAttributes.reason]).toMatch(
        expectedReason[original?.poison ?? 'malformed'],
      );
      expect(m.body).toBe(original?.body);
    }
    // Bounded by the 240 s `eventually` above; the rest (drains, 10 000 claims read back) can take
    // minutes more on a 2-core machine running the other integration files beside it.
  }, 600_000);
});
