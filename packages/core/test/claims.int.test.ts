// ClaimStore against the real Table adapters: one suite, a factory per adapter (LocalTable on
// a fresh data dir, DynamoTable on dynalite), including races between child processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { DynamoTable, ensureDynamoTable } from '../src/adapters/aws/index.ts';
import { openLocalStore } from '../src/adapters/local/index.ts';
import type { Claim } from '../src/claims/claim.ts';
import { ClaimStore } from '../src/claims/claim-store.ts';
import { LeaseLostError } from '../src/errors.ts';
import type { Table } from '../src/ports/table.ts';
import { awsTestClientConfig } from '../src/testing/emulators.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import type { ChildBackend, ChildConfig } from './claims-race-child.ts';

interface ClaimsBackend {
  readonly table: Table;
  /** How a child process opens the same table. */
  readonly child: ChildBackend;
  dispose(): Promise<void>;
}

const childScript = fileURLToPath(new URL('./claims-race-child.ts', import.meta.url));
const children = new Set<ChildProcess>();
afterEach(async () => {
  await Promise.all(
    [...children].map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
    }),
  );
  children.clear();
});

function startChild(config: ChildConfig) {
  const child = spawn(process.execPath, [childScript, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`child ${config.owner} ended without output (exit ${child.exitCode})`);
    return JSON.parse(String(value)) as Record<string, unknown>;
  };
  return { child, next };
}

const partition = () => `claims-${randomUUID().slice(0, 8)}`;

function claimsSuite(name: string, open: () => Promise<ClaimsBackend>) {
  describe(`ClaimStore on ${name}`, () => {
    let backend: ClaimsBackend | undefined;
    afterEach(async () => {
      await backend?.dispose();
      backend = undefined;
    });
    const setup = async (clock?: ManualClock) => {
      backend = await open();
      const p = partition();
      return { claims: new ClaimStore({ table: backend.table, clock, partition: p }), partition: p, backend };
    };

    it('gives a key to exactly one of 100 concurrent claimers', async () => {
      const { backend: b, partition: p } = await setup();
      const stores = Array.from({ length: 100 }, () => new ClaimStore({ table: b.table, partition: p }));
      const results = await Promise.all(
        stores.map((s, i) => s.claim('build#one', `w${i}`, { ttlMs: 60_000 })),
      );
      const winners = results.filter((c): c is Claim => c !== undefined);
      expect(winners).toHaveLength(1);
      expect(await stores[0]!.get('build#one')).toMatchObject({
        owner: winners[0]!.owner,
        token: winners[0]!.token,
      });
    });

    it('runs the lifecycle: claim, renew, complete with a result, then refuses the key for good', async () => {
      const clock = new ManualClock();
      const { claims } = await setup(clock);
      const key = 'build#ünïcödé/€ key';
      const a = await claims.claim(key, 'a', { ttlMs: 1_000 });
      expect(await claims.claim(key, 'b', { ttlMs: 1_000 })).toBeUndefined();
      await clock.advance(900);
      const renewed = await claims.renew(a!, { ttlMs: 5_000 });
      expect(renewed.expiresAt).toBe(clock.now() + 5_000);
      const result = { artifact: 's3://bucket/abc', sizes: [1, 2.5], nested: { ok: true, none: null } };
      await claims.complete(renewed, result);
      await clock.advance(60_000);
      expect(await claims.claim(key, 'b', { ttlMs: 1_000 })).toBeUndefined();
      expect(await claims.get(key)).toMatchObject({ owner: 'a', completed: true, result, held: false });
    });

    it('hands over after expiry; the stale holder can neither renew, complete nor release', async () => {
      const clock = new ManualClock();
      const { claims } = await setup(clock);
      const a = await claims.claim('k', 'a', { ttlMs: 1_000 });
      await clock.advance(1_000);
      const b = await claims.claim('k', 'b', { ttlMs: 1_000 });
      expect(b!.token).toBeGreaterThan(a!.token);
      await expect(claims.renew(a!)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(claims.complete(a!, { by: 'a' })).rejects.toBeInstanceOf(LeaseLostError);
      await claims.release(a!);
      expect(await claims.get('k')).toMatchObject({
        owner: 'b',
        token: b!.token,
        held: true,
        completed: false,
      });
    });

    it('lets exactly one of a late complete and ten racing takers win', async () => {
      const clock = new ManualClock();
      const { claims } = await setup(clock);
      const a = await claims.claim('k', 'a', { ttlMs: 1_000 });
      await clock.advance(1_000);
      const [complete, ...takers] = await Promise.allSettled([
        claims.complete(a!, { by: 'a' }),
        ...Array.from({ length: 10 }, (_, i) => claims.claim('k', `t${i}`, { ttlMs: 1_000 })),
      ]);
      const taken = takers.filter((t) => t.status === 'fulfilled' && t.value !== undefined);
      expect(takers.every((t) => t.status === 'fulfilled')).toBe(true);
      expect(taken.length + (complete!.status === 'fulfilled' ? 1 : 0)).toBe(1);
      const state = await claims.get('k');
      if (complete!.status === 'fulfilled')
        expect(state).toMatchObject({ completed: true, result: { by: 'a' } });
      else expect(complete!.reason).toBeInstanceOf(LeaseLostError);
    });

    it('issues strictly increasing tokens across many hand-overs', async () => {
      const clock = new ManualClock();
      const { claims } = await setup(clock);
      const tokens: number[] = [];
      for (let i = 0; i < 12; i++) {
        const claim = await claims.claim('k', `o${i % 3}`, { ttlMs: 100 });
        tokens.push(claim!.token);
        if (i % 2 === 0) await claims.renew(claim!);
        if (i % 3 === 0) await claims.release(claim!);
        else await clock.advance(100);
      }
      expect(tokens.every((t, i) => i === 0 || t > tokens[i - 1]!)).toBe(true);
    });

    it('two processes race for the same keys: each key is won and completed exactly once', async () => {
      const { backend: b, partition: p } = await setup();
      const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
      const racers = ['p1', 'p2'].map((owner) =>
        startChild({ backend: b.child, partition: p, owner, keys, mode: 'race', ttlMs: 60_000 }),
      );
      for (const r of racers) expect(await r.next()).toEqual({ ready: true });
      for (const r of racers) r.child.stdin!.write('go\n');
      const outcomes = await Promise.all(racers.map((r) => r.next()));
      const won = outcomes.flatMap((o, i) =>
        (o.won as { key: string }[]).map((w) => ({ ...w, owner: `p${i + 1}` })),
      );
      expect(won.map((w) => w.key).sort()).toEqual([...keys].sort());
      const claims = new ClaimStore({ table: b.table, partition: p });
      for (const w of won) {
        expect(await claims.get(w.key)).toMatchObject({
          completed: true,
          owner: w.owner,
          result: { owner: w.owner },
        });
      }
      expect(outcomes.map((o) => o.lostBeforeComplete)).toEqual([0, 0]);
    });

    it('takes over a claim held by a process killed with SIGKILL once it expires (a task resumed elsewhere)', async () => {
      const { backend: b, partition: p } = await setup();
      const holder = startChild({
        backend: b.child,
        partition: p,
        owner: 'dead',
        keys: ['task'],
        mode: 'hold',
        ttlMs: 1_000,
      });
      const { claim: stale } = (await holder.next()) as { claim: Claim };
      expect(stale.owner).toBe('dead');
      holder.child.kill('SIGKILL');
      await once(holder.child, 'exit');

      const claims = new ClaimStore({ table: b.table, partition: p });
      let resumed: Claim | undefined;
      for (let i = 0; i < 100 && !resumed; i++) {
        resumed = await claims.claim('task', 'heir', { ttlMs: 60_000 });
        if (!resumed) await new Promise((r) => setTimeout(r, 100));
      }
      expect(resumed!.token).toBeGreaterThan(stale.token);
      await expect(claims.complete(stale, { by: 'dead' })).rejects.toBeInstanceOf(LeaseLostError);
      await claims.complete(resumed!, { by: 'heir' });
      expect(await claims.get('task')).toMatchObject({ owner: 'heir', result: { by: 'heir' } });
    });
  });
}

claimsSuite('LocalTable', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'spotjobs-claims-'));
  const store = await openLocalStore({ dataDir });
  const table = `claims-${randomUUID().slice(0, 8)}`;
  return {
    table: store.table(table),
    child: { kind: 'local', dataDir, table },
    async dispose() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

const endpoint = inject('emulators').dynamodb;
const dynamodb = new DynamoDBClient({ ...awsTestClientConfig, endpoint });
afterAll(() => dynamodb.destroy());

claimsSuite('DynamoTable (dynalite)', async () => {
  const tableName = `claims-${randomUUID().slice(0, 12)}`;
  await ensureDynamoTable(dynamodb, tableName);
  return {
    table: new DynamoTable({ client: dynamodb, tableName }),
    child: { kind: 'dynamo', endpoint, tableName },
    async dispose() {
      await dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
    },
  };
});
