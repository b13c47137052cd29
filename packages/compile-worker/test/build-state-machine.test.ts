import { BackendError, LeaseLostError } from '@spotjobs/core';
import { ManualClock } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import { buildIdentity } from '../src/build/build-identity.ts';
import { buildClaimKey, buildMessageSchema } from '../src/build/build-message.ts';
import { BuildRepository } from '../src/build/build-repository.ts';
import { toBuildSpec } from '../src/build/build-spec.ts';
import { drain, failingSends, localBuilds, type SendCounter, testProfile } from './support/local-builds.ts';

// The build state machine driven directly, as the request path and the build daemon drive it,
// on the embedded store with a manual clock (no sleeping).

const spec = toBuildSpec({ category: 'app-misc', name: 'ranger', version: '1.8.1' }, 'ssl -doc');
const id = buildIdentity(spec, testProfile);
const ref = (generation = 1) => ({ buildId: id, generation });
const artifact = { key: 'packages/u-app-misc@ranger-1.8.1.tbz2', sha256: 'a'.repeat(64), size: 1234 };
const asUser = { mayEnqueue: true, requestedBy: 'api-key:test' } as const;

describe('admission', () => {
  it('creates the build once and enqueues one valid message', async () => {
    const { builds, queue } = await localBuilds({ clock: new ManualClock() });

    const first = await builds.admit(spec, asUser);
    const second = await builds.admit(spec, asUser);

    expect(first).toMatchObject({
      outcome: 'created',
      id,
      build: { state: 'queued', generation: 1, attempts: 0 },
    });
    expect(second).toMatchObject({ outcome: 'existing', id });
    const build = await builds.get(id);
    expect(build?.dispatch).toMatchObject({ pending: false, count: 1 });
    expect(build?.requestedBy).toBe('api-key:test');
    const messages = await drain(queue);
    expect(messages).toHaveLength(1);
    const job = buildMessageSchema.parse(JSON.parse(messages[0]!.body));
    expect(job).toMatchObject({
      buildId: id,
      generation: 1,
      packageExpression: 'app-misc/ranger-1.8.1',
      useflag: '-doc ssl',
    });
    expect(build?.dispatch.messageId).toBe(messages[0]!.id);
  });

  it('writes and enqueues nothing for an anonymous request of an unknown build', async () => {
    const { builds, queue } = await localBuilds();

    const admission = await builds.admit(spec, { mayEnqueue: false });

    expect(admission).toEqual({ outcome: 'unknown', id });
    expect(await builds.get(id)).toBeUndefined();
    expect(await drain(queue)).toHaveLength(0);
  });

  it('gives 100 concurrent first requests one build and one message', async () => {
    const { builds, queue } = await localBuilds();

    const admissions = await Promise.all(Array.from({ length: 100 }, () => builds.admit(spec, asUser)));

    expect(admissions.filter((a) => a.outcome === 'created')).toHaveLength(1);
    expect(admissions.filter((a) => a.outcome === 'existing')).toHaveLength(99);
    expect(await drain(queue)).toHaveLength(1);
  });

  it('enqueues again when the enqueuer died before its send, only after the grace, only once', async () => {
    const clock = new ManualClock();
    const counter: SendCounter = { sends: 0 };
    const { builds, queue } = await localBuilds({
      clock,
      policy: { enqueueGraceMs: 30_000 },
      wrapQueue: failingSends(1, counter),
    });

    await expect(builds.admit(spec, asUser)).rejects.toBeInstanceOf(BackendError);
    expect((await builds.get(id))?.dispatch).toMatchObject({ pending: true, count: 0 });
    // Within the grace the enqueuer may still be sending: nobody else sends.
    await clock.advance(29_000);
    expect((await builds.admit(spec, asUser)).outcome).toBe('existing');
    expect(counter.sends).toBe(1);
    // Anonymous requests never repair (they may not enqueue).
    await clock.advance(2_000);
    await builds.admit(spec, { mayEnqueue: false });
    expect(counter.sends).toBe(1);
    // Past the grace, concurrent authenticated requests race: one wins and sends.
    await Promise.all(Array.from({ length: 10 }, () => builds.admit(spec, asUser)));

    expect(counter.sends).toBe(2);
    expect(await drain(queue)).toHaveLength(1);
    expect((await builds.get(id))?.dispatch).toMatchObject({ pending: false, count: 1 });
  });
});

describe('transitions', () => {
  it('goes queued → building → ready, recording the attempt, artifact and log', async () => {
    const clock = new ManualClock();
    const { builds } = await localBuilds({ clock });
    await builds.admit(spec, asUser);
    const claim = await builds.claims.claim(buildClaimKey(ref()), 'worker-a', { ttlMs: 60_000 });
    const owner = { workerId: 'worker-a', claimToken: claim!.token };

    const started = await builds.start(ref(), owner);
    await clock.advance(5_000);
    const ready = await builds.complete(ref(), owner, { artifact, logKey: `logs/${id}/g1-a1.log` });

    expect(started).toMatchObject({
      outcome: 'started',
      build: { state: 'building', attempts: 1, workerId: 'worker-a' },
    });
    expect(ready).toMatchObject({
      state: 'ready',
      artifact,
      log: { key: `logs/${id}/g1-a1.log` },
      error: null,
    });
    expect(ready.finishedAt! - ready.startedAt!).toBe(5_000);
    expect(ready.history).toEqual([
      expect.objectContaining({
        attempt: 1,
        workerId: 'worker-a',
        outcome: 'ready',
        endedAt: ready.finishedAt,
      }),
    ]);
    // Repeating the last call (its answer lost) is harmless; the build is served from now on.
    await expect(builds.complete(ref(), owner, { artifact })).resolves.toMatchObject({ state: 'ready' });
    expect((await builds.admit(spec, asUser)).outcome).toBe('existing');
    expect(await builds.start(ref(), owner)).toMatchObject({ outcome: 'superseded' });
  });

  it('fails with a reason, refuses a retry until retryAfter, then admits the next generation', async () => {
    const clock = new ManualClock();
    const { builds, queue } = await localBuilds({ clock, policy: { failedRetryAfterMs: 60_000 } });
    await builds.admit(spec, asUser);
    await drain(queue);
    const owner = { workerId: 'worker-a', claimToken: 1 };
    await builds.start(ref(), owner);

    const failed = await builds.fail(ref(), owner, {
      reason: 'emerge exited with 1\nsee log',
      logKey: 'logs/x.log',
    });

    expect(failed).toMatchObject({ state: 'failed', error: { message: 'emerge exited with 1\nsee log' } });
    expect(failed.retryAfter).toBe(clock.now() + 60_000);
    await clock.advance(59_000);
    expect(await builds.admit(spec, asUser)).toMatchObject({
      outcome: 'existing',
      build: { state: 'failed' },
    });
    await clock.advance(1_000);
    expect(await builds.admit(spec, { mayEnqueue: false })).toMatchObject({
      outcome: 'existing',
      build: { state: 'failed' },
    });
    const retried = await builds.admit(spec, asUser);
    expect(retried).toMatchObject({
      outcome: 'requeued',
      build: { state: 'queued', generation: 2, attempts: 0, error: null },
    });
    const [message, ...rest] = await drain(queue);
    expect(rest).toHaveLength(0);
    expect(buildMessageSchema.parse(JSON.parse(message!.body)).generation).toBe(2);
    // A late copy of generation 1's message finds nothing to do.
    expect(await builds.start(ref(1), { workerId: 'w', claimToken: 9 })).toMatchObject({
      outcome: 'superseded',
    });
    expect(await builds.start(ref(2), { workerId: 'w', claimToken: 9 })).toMatchObject({
      outcome: 'started',
    });
  });

  it('releases an interrupted build back to queued, and the next worker continues the count', async () => {
    const { builds } = await localBuilds();
    await builds.admit(spec, asUser);
    await builds.start(ref(), { workerId: 'a', claimToken: 1 });

    const released = await builds.release(
      ref(),
      { workerId: 'a', claimToken: 1 },
      { reason: 'spot interruption' },
    );
    const restarted = await builds.start(ref(), { workerId: 'b', claimToken: 3 });

    expect(released).toMatchObject({ state: 'queued', workerId: null });
    expect(restarted).toMatchObject({ outcome: 'started', build: { attempts: 2, workerId: 'b' } });
    if (restarted.outcome !== 'started') throw new Error('unreachable');
    expect(restarted.build.history.map((h) => [h.workerId, h.outcome, h.reason])).toEqual([
      ['a', 'released', 'spot interruption'],
      ['b', 'building', null],
    ]);
  });

  it('fences a worker whose claim was taken over', async () => {
    const { builds } = await localBuilds();
    await builds.admit(spec, asUser);
    const stale = { workerId: 'a', claimToken: 1 };
    const current = { workerId: 'b', claimToken: 4 };
    await builds.start(ref(), stale);

    const takeover = await builds.start(ref(), current);

    expect(takeover).toMatchObject({ outcome: 'started', build: { workerId: 'b', attempts: 2 } });
    await expect(builds.complete(ref(), stale, { artifact })).rejects.toBeInstanceOf(LeaseLostError);
    await expect(builds.fail(ref(), stale, { reason: 'late' })).rejects.toBeInstanceOf(LeaseLostError);
    await expect(builds.start(ref(), stale)).rejects.toBeInstanceOf(LeaseLostError);
    const done = await builds.complete(ref(), current, { artifact });
    expect(done.history.map((h) => h.outcome)).toEqual(['abandoned', 'ready']);
  });

  it('fences an older owner even after the record went back to queued', async () => {
    const { builds } = await localBuilds();
    await builds.admit(spec, asUser);
    await builds.start(ref(), { workerId: 'b', claimToken: 4 });
    await builds.release(ref(), { workerId: 'b', claimToken: 4 }, { reason: 'interrupted' });

    // Worker a claimed first (token 2), slept, and only now gets to start.
    await expect(builds.start(ref(), { workerId: 'a', claimToken: 2 })).rejects.toBeInstanceOf(
      LeaseLostError,
    );
    expect(await builds.start(ref(), { workerId: 'c', claimToken: 6 })).toMatchObject({ outcome: 'started' });
  });

  it('refuses malformed results before writing', async () => {
    const { builds } = await localBuilds();
    await builds.admit(spec, asUser);
    const owner = { workerId: 'a', claimToken: 1 };
    await builds.start(ref(), owner);

    await expect(
      builds.complete(ref(), owner, { artifact: { ...artifact, key: '../etc/passwd' } }),
    ).rejects.toThrow(/key/);
    await expect(builds.complete(ref(), owner, { artifact: { ...artifact, sha256: 'xyz' } })).rejects.toThrow(
      /sha256/,
    );
    expect((await builds.get(id))?.state).toBe('building');
  });

  it('answers superseded for a message of a build that does not exist', async () => {
    const { builds } = await localBuilds();
    expect(await builds.start(ref(), { workerId: 'a', claimToken: 1 })).toMatchObject({
      outcome: 'superseded',
      reason: 'no such build',
    });
  });
});

describe('reclaimStuck', () => {
  it('re-queues a build whose owner is gone, and leaves a live owner alone', async () => {
    const clock = new ManualClock();
    const { builds, queue } = await localBuilds({ clock, policy: { stuckAfterMs: 600_000 } });
    await builds.admit(spec, asUser);
    await drain(queue);
    const claim = await builds.claims.claim(buildClaimKey(ref()), 'worker-a', { ttlMs: 120_000 });
    await builds.start(ref(), { workerId: 'worker-a', claimToken: claim!.token });

    // The owner keeps renewing: nothing to reclaim however long the build runs.
    let held = claim!;
    for (let i = 0; i < 10; i++) {
      await clock.advance(60_000);
      held = await builds.claims.renew(held);
    }
    expect(await builds.reclaimStuck()).toMatchObject({ scanned: 1, requeued: 0 });
    // The owner dies: its claim lapses, and the record has not moved for stuckAfterMs.
    await clock.advance(600_000);
    const report = await builds.reclaimStuck();

    expect(report).toMatchObject({ scanned: 1, requeued: 1, errors: 0 });
    const build = await builds.get(id);
    expect(build).toMatchObject({ state: 'queued', workerId: null, dispatch: { pending: false, count: 2 } });
    expect(build?.history.map((h) => [h.outcome, h.reason])).toEqual([['abandoned', 'owner worker-a gone']]);
    expect(await drain(queue)).toHaveLength(1);
    // The next worker takes the lapsed claim (a newer token) and builds.
    const next = await builds.claims.claim(buildClaimKey(ref()), 'worker-b', { ttlMs: 120_000 });
    expect(await builds.start(ref(), { workerId: 'worker-b', claimToken: next!.token })).toMatchObject({
      outcome: 'started',
    });
  });

  it('marks a build failed after maxAttempts lost owners', async () => {
    const clock = new ManualClock();
    const { builds } = await localBuilds({ clock, policy: { stuckAfterMs: 1_000, maxAttempts: 2 } });
    await builds.admit(spec, asUser);
    for (const token of [1, 2]) {
      await builds.start(ref(), { workerId: `w${token}`, claimToken: token });
      await clock.advance(2_000);
      await builds.reclaimStuck();
    }

    const build = await builds.get(id);
    expect(build).toMatchObject({ state: 'failed', attempts: 2 });
    expect(build?.error?.message).toBe('gave up after 2 attempts; the last owner (w2) is gone');
    expect(await builds.reclaimStuck()).toMatchObject({ scanned: 0 });
  });

  it('repairs a lost enqueue and re-sends an unanswered message, up to maxDispatches', async () => {
    const clock = new ManualClock();
    const counter: SendCounter = { sends: 0 };
    const { builds, queue } = await localBuilds({
      clock,
      policy: { enqueueGraceMs: 10_000, redispatchAfterMs: 3_600_000, maxDispatches: 2 },
      wrapQueue: failingSends(1, counter),
    });
    await expect(builds.admit(spec, asUser)).rejects.toThrow('injected');

    expect(await builds.reclaimStuck()).toMatchObject({ redispatched: 0 });
    await clock.advance(10_000);
    expect(await builds.reclaimStuck()).toMatchObject({ redispatched: 1 });
    await clock.advance(3_600_000);
    expect(await builds.reclaimStuck()).toMatchObject({ redispatched: 1 });
    await clock.advance(3_600_000);
    expect(await builds.reclaimStuck()).toMatchObject({ failed: 1 });

    expect(counter.sends).toBe(3);
    expect(await drain(queue)).toHaveLength(2);
    expect((await builds.get(id))?.error?.message).toBe('never started after 2 enqueues');
  });

  it('counts an unanswered message from the release of a build, not from its first send', async () => {
    const clock = new ManualClock();
    const { builds } = await localBuilds({ clock, policy: { redispatchAfterMs: 3_600_000 } });
    await builds.admit(spec, asUser);
    await builds.start(ref(), { workerId: 'a', claimToken: 1 });
    await clock.advance(5 * 3_600_000); // a long build
    await builds.release(ref(), { workerId: 'a', claimToken: 1 }, { reason: 'spot interruption' });

    expect(await builds.reclaimStuck()).toMatchObject({ redispatched: 0 });
    await clock.advance(3_600_000);
    expect(await builds.reclaimStuck()).toMatchObject({ redispatched: 1 });
  });

  it('drops index entries of concluded or missing builds', async () => {
    const { builds, table } = await localBuilds();
    await builds.admit(spec, asUser);
    const owner = { workerId: 'a', claimToken: 1 };
    await builds.start(ref(), owner);
    await builds.complete(ref(), owner, { artifact });
    expect(await builds.reclaimStuck()).toMatchObject({ scanned: 0 });
    // A crash between the index write and the record write, or between "ready" and the index
    // removal, leaves such entries: replay both.
    const repository = new BuildRepository(table);
    await repository.markActive(id, 0);
    await repository.markActive('f'.repeat(64), 0);

    expect(await builds.reclaimStuck()).toMatchObject({ scanned: 2, cleaned: 2 });
    expect(await builds.reclaimStuck()).toMatchObject({ scanned: 0 });
  });
});
