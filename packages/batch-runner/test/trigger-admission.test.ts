import { BackendError, ClaimStore, type JsonObject, type Table } from '@spotjobs/core';
import { ManualClock } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import { Admission } from '../src/triggers/admission.ts';
import type { ActionContext, AdmissionSteps, Decision } from '../src/triggers/admission-types.ts';
import { objectVersionId, objectVersionOf } from '../src/triggers/object-version.ts';
import { parseS3Event } from '../src/triggers/s3-event.ts';
import { RetryRecordsError } from '../src/triggers/trigger-errors.ts';
import { combine, drive, invocation, s3Event, tempStore, triggerClaims } from './trigger-test-kit.ts';

interface Probe {
  decided: string[];
  acted: Array<{ key: string; resumed: boolean; objectId: string }>;
  refused: string[];
}

/** Steps that admit keys under input/, refuse names containing "refuse", and record what they did. */
function probeSteps(
  probe: Probe,
  options: {
    decide?: (key: string) => Decision<string> | undefined;
    act?: (key: string, ctx: ActionContext) => Promise<JsonObject | undefined>;
  } = {},
): AdmissionSteps<string, string> {
  return {
    name: 'probe',
    validate: (record) =>
      record.key.includes('..')
        ? { kind: 'reject', reason: 'dot segment' }
        : record.key.startsWith('input/')
          ? { kind: 'admit', request: record.key }
          : { kind: 'ignore', reason: 'not input/' },
    async decide(key) {
      probe.decided.push(key);
      return (
        options.decide?.(key) ??
        (key.includes('refuse')
          ? { kind: 'refuse', reason: 'refused by rule' }
          : { kind: 'proceed', plan: key })
      );
    },
    async act(key, ctx) {
      probe.acted.push({ key, resumed: ctx.resumed, objectId: ctx.objectId });
      return (await options.act?.(key, ctx)) ?? { acted: key };
    },
    async refuse(key) {
      probe.refused.push(key);
      return { answered: key };
    },
  };
}

async function setup(options: Parameters<typeof probeSteps>[1] = {}, claimTtlMs = 60_000) {
  const clock = new ManualClock();
  const store = await tempStore(clock);
  const probe: Probe = { decided: [], acted: [], refused: [] };
  const admission = new Admission(probeSteps(probe, options), {
    claims: triggerClaims(store, clock),
    claimTtlMs,
  });
  return { clock, store, probe, admission };
}

describe('Admission (validate → claim → decide → act)', () => {
  it('acts once per object version; a redelivered event is a duplicate with the stored result', async () => {
    const { admission, probe } = await setup();
    const event = await s3Event('object-created-put');

    const first = await admission.handle(event, invocation('req-1'));
    const again = await admission.handle(event, invocation('req-2'));

    expect(first.records).toEqual([
      {
        index: 0,
        bucket: 'scar-architrave',
        key: 'input/run helper.sh',
        outcome: 'done',
        result: { acted: 'input/run helper.sh' },
      },
    ]);
    expect(again.records[0]).toMatchObject({
      outcome: 'duplicate',
      result: { acted: 'input/run helper.sh', outcome: 'done' },
    });
    expect(probe.acted).toHaveLength(1);
    expect(probe.decided).toHaveLength(1);
  });

  it('tells versions apart: a new version id (or a new sequencer without versions) is a new request', async () => {
    const { admission, probe } = await setup();

    await admission.handle(await s3Event('object-created-put', { versionId: 'v-one' }), invocation());
    await admission.handle(await s3Event('object-created-put', { versionId: 'v-two' }), invocation());
    await admission.handle(await s3Event('object-created-unversioned', { sequencer: '00AA' }), invocation());
    await admission.handle(await s3Event('object-created-unversioned', { sequencer: '00AB' }), invocation());
    await admission.handle(await s3Event('object-created-unversioned', { sequencer: '00AB' }), invocation());

    expect(probe.acted).toHaveLength(4);
    expect(new Set(probe.acted.map((a) => a.objectId)).size).toBe(4);
  });

  it('rejects a record that has neither version id nor sequencer, without acting', async () => {
    const { admission, probe } = await setup();

    const report = await admission.handle(
      await s3Event('object-created-put', { versionId: null, sequencer: null }),
      invocation(),
    );

    expect(report.records[0]).toMatchObject({
      outcome: 'rejected',
      reason: expect.stringContaining('sequencer'),
    });
    expect(probe.decided).toEqual([]);
  });

  it('ignores and rejects by validate without claiming, and reports malformed records', async () => {
    const { admission, probe } = await setup();
    const event = combine(
      await s3Event('object-created-put', { rawKey: 'elsewhere/file' }),
      await s3Event('object-created-put', { rawKey: 'input/..%2Fsecret' }),
      { Records: [{ eventSource: 'aws:s3', nonsense: true }] } as never,
    );

    const report = await admission.handle(event, invocation());

    expect(report.records.map((r) => [r.index, r.outcome])).toEqual([
      [0, 'ignored'],
      [1, 'rejected'],
      [2, 'rejected'],
    ]);
    expect(probe.decided).toEqual([]);
  });

  it('stores a refusal, so a redelivery does not answer it again', async () => {
    const { admission, probe } = await setup();
    const event = await s3Event('object-created-put', { rawKey: 'input/please-refuse' });

    const first = await admission.handle(event, invocation());
    const again = await admission.handle(event, invocation('req-2'));

    expect(first.records[0]).toMatchObject({
      outcome: 'refused',
      reason: 'refused by rule',
      result: { answered: 'input/please-refuse' },
    });
    expect(again.records[0]?.outcome).toBe('duplicate');
    expect(probe.refused).toEqual(['input/please-refuse']);
  });

  it('a failing act releases the claim and asks for a retry; the retry acts with resumed set', async () => {
    let failures = 1;
    const { admission, probe } = await setup({
      async act() {
        if (failures-- > 0) throw new BackendError('SubmitJob throttled', true);
        return undefined;
      },
    });
    const event = await s3Event('object-created-put');

    const error = await admission.handle(event, invocation('req-1')).catch((err: unknown) => err);
    const retried = await admission.handle(event, invocation('req-1'));

    expect(error).toBeInstanceOf(RetryRecordsError);
    expect((error as RetryRecordsError).report.records[0]).toMatchObject({
      outcome: 'retry',
      reason: 'BackendError: SubmitJob throttled',
    });
    expect(retried.records[0]?.outcome).toBe('done');
    expect(probe.acted.map((a) => a.resumed)).toEqual([false, true]);
  });

  it('handles the other records of an event before asking for the retry of one', async () => {
    const { admission, probe } = await setup({
      async act(key) {
        if (key.endsWith('b')) throw new BackendError('boom', true);
        return undefined;
      },
    });
    const event = combine(
      await s3Event('object-created-put', { rawKey: 'input/a', versionId: '1' }),
      await s3Event('object-created-put', { rawKey: 'input/b', versionId: '1' }),
      await s3Event('object-created-put', { rawKey: 'input/c', versionId: '1' }),
    );

    const error = (await admission
      .handle(event, invocation())
      .catch((err: unknown) => err)) as RetryRecordsError;

    expect(error.report.records.map((r) => r.outcome)).toEqual(['done', 'retry', 'done']);
    expect(probe.acted.map((a) => a.key)).toEqual(['input/a', 'input/b', 'input/c']);
  });

  it('a concurrent delivery finds the object busy and is retried, not acted on twice', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { admission, probe } = await setup({
      async act() {
        await gate;
        return undefined;
      },
    });
    const event = await s3Event('object-created-put');

    const first = admission.handle(event, invocation('req-1'));
    while (probe.acted.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const second = await admission.handle(event, invocation('req-2')).catch((err: unknown) => err);
    release();

    expect((await first).records[0]?.outcome).toBe('done');
    expect(second).toBeInstanceOf(RetryRecordsError);
    expect((second as RetryRecordsError).report.records[0]?.reason).toContain(
      'another invocation is handling',
    );
    expect(probe.acted).toHaveLength(1);
  });

  it('after a crash (claim never released), another invocation takes over once the claim expires', async () => {
    const { admission, probe, clock, store } = await setup({}, 30_000);
    const event = await s3Event('object-created-put');
    // The crashed attempt: it took the claim, then vanished.
    const crashed = await triggerClaims(store, clock).claim(`probe:${objectIdOf(event)}`, 'req-crashed', {
      ttlMs: 30_000,
    });
    expect(crashed).toBeDefined();

    const tooEarly = await admission.handle(event, invocation('req-2')).catch((err: unknown) => err);
    await clock.advance(30_001);
    const later = await admission.handle(event, invocation('req-3'));

    expect(tooEarly).toBeInstanceOf(RetryRecordsError);
    expect(later.records[0]?.outcome).toBe('done');
    expect(probe.acted).toEqual([expect.objectContaining({ resumed: true })]);
  });

  it('keepAlive renews the claim through a long act, so no one takes it over meanwhile', async () => {
    const clock = new ManualClock();
    const store = await tempStore(clock);
    const probe: Probe = { decided: [], acted: [], refused: [] };
    const steps = probeSteps(probe, {
      async act(_key, ctx) {
        for (let i = 0; i < 10; i++) {
          await clock.sleep(10_000, ctx.signal);
          await ctx.keepAlive();
        }
        return undefined;
      },
    });
    const admission = new Admission(steps, { claims: triggerClaims(store, clock), claimTtlMs: 30_000 });
    const event = await s3Event('object-created-put');

    const long = drive(clock, admission.handle(event, invocation('req-1')));
    while (probe.acted.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await clock.advance(50_000);
    const meanwhile = await admission.handle(event, invocation('req-2')).catch((err: unknown) => err);

    expect((await long).records[0]?.outcome).toBe('done');
    expect(meanwhile).toBeInstanceOf(RetryRecordsError);
    expect(probe.acted).toHaveLength(1);
  });

  it('an act whose claim was taken over ends as superseded, without storing its outcome', async () => {
    const clock = new ManualClock();
    const store = await tempStore(clock);
    const claims = triggerClaims(store, clock);
    const probe: Probe = { decided: [], acted: [], refused: [] };
    let objectId = '';
    const steps = probeSteps(probe, {
      async act(_key, ctx) {
        objectId = ctx.objectId;
        await clock.advance(31_000); // the claim lapses...
        await claims.claim(`probe:${objectId}`, 'req-thief', { ttlMs: 30_000 }); // ...and is taken
        return undefined;
      },
    });
    const admission = new Admission(steps, { claims, claimTtlMs: 30_000 });

    const report = await admission.handle(await s3Event('object-created-put'), invocation('req-1'));

    expect(report.records[0]?.outcome).toBe('superseded');
    expect((await claims.get(`probe:${objectId}`))?.completed).toBe(false);
  });

  it('a skip is stored like an outcome', async () => {
    const { admission, probe } = await setup({ decide: () => ({ kind: 'skip', reason: 'gone' }) });
    const event = await s3Event('object-created-put');

    const first = await admission.handle(event, invocation());
    const again = await admission.handle(event, invocation('req-2'));

    expect(first.records[0]).toMatchObject({ outcome: 'skipped', reason: 'gone' });
    expect(again.records[0]).toMatchObject({ outcome: 'duplicate', result: { outcome: 'skipped' } });
    expect(probe.acted).toEqual([]);
  });

  it('a Table failure while claiming is a retry', async () => {
    const clock = new ManualClock();
    const store = await tempStore(clock);
    const table = store.table('triggers');
    const failing: Table = {
      get: () => Promise.reject(new BackendError('GetItem throttled', true)),
      put: table.put.bind(table),
      delete: table.delete.bind(table),
      query: table.query.bind(table),
    };
    const probe: Probe = { decided: [], acted: [], refused: [] };
    const admission = new Admission(probeSteps(probe), { claims: new ClaimStore({ table: failing, clock }) });

    const error = await admission
      .handle(await s3Event('object-created-put'), invocation())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RetryRecordsError);
    expect(probe.decided).toEqual([]);
  });
});

/** The object id Admission computes for the event's first record. */
function objectIdOf(event: unknown): string {
  return objectVersionId(objectVersionOf(parseS3Event(event).records[0]!)!);
}
