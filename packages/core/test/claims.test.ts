import { describe, expect, it } from 'vitest';
import { ClaimStore } from '../src/claims/claim-store.ts';
import { AbortedError, LeaseLostError, ValidationError } from '../src/errors.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { MemoryTable } from './support/memory-table.ts';

function setup() {
  const table = new MemoryTable();
  const clock = new ManualClock();
  const claims = new ClaimStore({ table, clock, partition: 'p' });
  return { table, clock, claims };
}

describe('ClaimStore (in-memory Table)', () => {
  it('grants a free key and refuses it to another owner while the claim is live', async () => {
    const { clock, claims } = setup();
    const a = await claims.claim('k', 'a', { ttlMs: 1_000 });
    expect(a).toMatchObject({ key: 'k', owner: 'a', token: 1, expiresAt: clock.now() + 1_000, ttlMs: 1_000 });
    expect(await claims.claim('k', 'b', { ttlMs: 1_000 })).toBeUndefined();
    expect(await claims.get('k')).toMatchObject({ owner: 'a', token: 1, held: true, completed: false });
    expect(await claims.get('other')).toBeUndefined();
  });

  it('lets another owner take over exactly when the expiry passes', async () => {
    const { clock, claims } = setup();
    const a = await claims.claim('k', 'a', { ttlMs: 1_000 });
    await clock.advance(999);
    expect(await claims.claim('k', 'b', { ttlMs: 1_000 })).toBeUndefined();
    await clock.advance(1);
    expect((await claims.get('k'))?.held).toBe(false);
    const b = await claims.claim('k', 'b', { ttlMs: 1_000 });
    expect(b?.owner).toBe('b');
    expect(b!.token).toBeGreaterThan(a!.token);
  });

  it('renews a live claim, and fails the renewal once another owner took over', async () => {
    const { clock, claims } = setup();
    const a1 = await claims.claim('k', 'a', { ttlMs: 1_000 });
    await clock.advance(800);
    const a2 = await claims.renew(a1!, { ttlMs: 2_000 });
    expect(a2).toMatchObject({ token: a1!.token, expiresAt: clock.now() + 2_000, ttlMs: 2_000 });
    await clock.advance(1_500);
    expect(await claims.claim('k', 'b', { ttlMs: 1_000 })).toBeUndefined();
    await clock.advance(500);
    const b = await claims.claim('k', 'b', { ttlMs: 1_000 });
    await expect(claims.renew(a2)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await claims.get('k')).toMatchObject({ owner: 'b', token: b!.token, held: true });
  });

  it('renews a claim whose expiry passed while nobody took it over (the version still matches)', async () => {
    const { clock, claims } = setup();
    const a = await claims.claim('k', 'a', { ttlMs: 1_000 });
    await clock.advance(5_000);
    const renewed = await claims.renew(a!);
    expect(renewed).toMatchObject({ token: a!.token, expiresAt: clock.now() + 1_000 });
  });

  it('accepts a renewal through an older handle of the same hold (overlapping heartbeats)', async () => {
    const { clock, claims } = setup();
    const first = await claims.claim('k', 'a', { ttlMs: 1_000 });
    const [x, y] = await Promise.all([claims.renew(first!), claims.renew(first!)]);
    expect(x.token).toBe(first!.token);
    expect(y.token).toBe(first!.token);
    await clock.advance(100);
    const again = await claims.renew(first!, { ttlMs: 3_000 });
    expect((await claims.get('k'))?.expiresAt).toBe(again.expiresAt);
  });

  it('writes the final state only while still the owner; a late worker cannot overwrite it', async () => {
    const { clock, claims } = setup();
    const a = await claims.claim('k', 'a', { ttlMs: 1_000 });
    await clock.advance(1_000);
    const b = await claims.claim('k', 'b', { ttlMs: 1_000 });
    await expect(claims.complete(a!, { by: 'a' })).rejects.toBeInstanceOf(LeaseLostError);
    expect(await claims.get('k')).toMatchObject({ owner: 'b', completed: false, result: undefined });

    const done = await claims.complete(b!, { by: 'b' });
    expect(done).toMatchObject({ owner: 'b', completed: true, result: { by: 'b' }, held: false });
    expect(await claims.get('k')).toMatchObject({ owner: 'b', completed: true, result: { by: 'b' } });
    await expect(claims.complete(a!, { by: 'a' })).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('never hands out a completed key again, and renew/release on it change nothing', async () => {
    const { clock, claims, table } = setup();
    const a = await claims.claim('k', 'a', { ttlMs: 1_000 });
    await claims.complete(a!);
    await clock.advance(10_000);
    expect(await claims.claim('k', 'b', { ttlMs: 1_000 })).toBeUndefined();
    expect(await claims.claim('k', 'a', { ttlMs: 1_000 })).toBeUndefined();
    await expect(claims.renew(a!)).rejects.toBeInstanceOf(LeaseLostError);
    const writes = table.writes;
    await claims.release(a!);
    expect(table.writes).toBe(writes);
    expect(await claims.get('k')).toMatchObject({ completed: true, result: undefined, owner: 'a' });
  });

  it('release frees the key at once; releasing a lost claim leaves the new owner alone', async () => {
    const { clock, claims } = setup();
    const a = await claims.claim('k', 'a', { ttlMs: 60_000 });
    await claims.release(a!);
    expect(await claims.get('k')).toMatchObject({ owner: undefined, held: false });
    const b = await claims.claim('k', 'b', { ttlMs: 1_000 });
    expect(b).toBeDefined();
    await claims.release(a!);
    expect(await claims.get('k')).toMatchObject({ owner: 'b', held: true });
    await clock.advance(1_000);
    const c = await claims.claim('k', 'c', { ttlMs: 1_000 });
    await claims.release(b!);
    expect(await claims.get('k')).toMatchObject({ owner: 'c', token: c!.token, held: true });
  });

  it('issues a strictly greater token on every change of owner, renewals included in between', async () => {
    const { clock, claims } = setup();
    const tokens: number[] = [];
    const a = await claims.claim('k', 'a', { ttlMs: 100 });
    tokens.push(a!.token);
    await claims.renew(a!);
    await claims.renew(a!);
    await claims.release(a!);
    const b = await claims.claim('k', 'b', { ttlMs: 100 });
    tokens.push(b!.token);
    await clock.advance(100);
    const c = await claims.claim('k', 'c', { ttlMs: 100 });
    tokens.push(c!.token);
    const cAgain = await claims.claim('k', 'c', { ttlMs: 100 });
    tokens.push(cAgain!.token);
    const sorted = [...tokens].sort((x, y) => x - y);
    expect(tokens).toEqual(sorted);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('fences an older handle out when the same owner claims again', async () => {
    const { claims } = setup();
    const first = await claims.claim('k', 'a', { ttlMs: 1_000 });
    const second = await claims.claim('k', 'a', { ttlMs: 1_000 });
    expect(second!.token).toBeGreaterThan(first!.token);
    await expect(claims.complete(first!)).rejects.toBeInstanceOf(LeaseLostError);
    await claims.complete(second!, { ok: true });
  });

  it('gives a key to exactly one of many concurrent claimers', async () => {
    const { claims } = setup();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => claims.claim('k', `w${i}`, { ttlMs: 1_000 })),
    );
    const winners = results.filter((c) => c !== undefined);
    expect(winners).toHaveLength(1);
    expect((await claims.get('k'))?.owner).toBe(winners[0]!.owner);
  });

  it('keeps claims of different partitions and keys apart', async () => {
    const { table, clock, claims } = setup();
    const other = new ClaimStore({ table, clock, partition: 'q' });
    expect(await claims.claim('k', 'a', { ttlMs: 1_000 })).toBeDefined();
    expect(await other.claim('k', 'b', { ttlMs: 1_000 })).toBeDefined();
    expect(await claims.claim('k2', 'b', { ttlMs: 1_000 })).toBeDefined();
    expect([...table.items.keys()].sort()).toEqual(['p/k', 'p/k2', 'q/k']);
  });

  it('rejects invalid arguments and foreign items, and honours an aborted signal', async () => {
    const { claims, table } = setup();
    await expect(claims.claim('', 'a', { ttlMs: 1_000 })).rejects.toBeInstanceOf(ValidationError);
    await expect(claims.claim('k', '', { ttlMs: 1_000 })).rejects.toBeInstanceOf(ValidationError);
    await expect(claims.claim('k', 'a', { ttlMs: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(claims.claim('x'.repeat(1025), 'a', { ttlMs: 1 })).rejects.toBeInstanceOf(ValidationError);
    expect(() => new ClaimStore({ table, partition: '' })).toThrow(ValidationError);
    const a = await claims.claim('k', 'a', { ttlMs: 1_000 });
    await expect(claims.renew(a!, { ttlMs: -5 })).rejects.toBeInstanceOf(ValidationError);

    await table.put({ pk: 'p', sk: 'foreign' }, { hello: 'world' });
    await expect(claims.get('foreign')).rejects.toBeInstanceOf(ValidationError);

    const aborted = AbortSignal.abort();
    await expect(claims.claim('k3', 'a', { ttlMs: 1_000 }, aborted)).rejects.toBeInstanceOf(AbortedError);
    await expect(claims.renew(a!, {}, aborted)).rejects.toBeInstanceOf(AbortedError);
    await expect(claims.get('k', aborted)).rejects.toBeInstanceOf(AbortedError);
  });
});
