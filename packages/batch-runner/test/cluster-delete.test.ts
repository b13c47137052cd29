import { describe, expect, it } from 'vitest';
import { clusterWorld, drive, invocation } from './trigger-test-kit.ts';

const alicesTags = { project: 'alice', 'spotjobs:owner': 'alice', 'spotjobs:cluster': 'demo' };

describe('cluster delete (.cf-delete)', () => {
  it("deletes the owner's stack, waits for DELETE_COMPLETE, leaves .cf-deleted, deletes the request, then notifies", async () => {
    const seenAtNotice: Array<string | undefined> = [];
    const world = await clusterWorld({
      onNotify: async () => {
        seenAtNotice.push(await world.read('home/alice/demo.cf-deleted'));
      },
    });
    const stackId = world.stacks.seed({ stackName: 'af--alice--demo', tags: alicesTags });
    const event = await world.request('home/alice/demo.cf-delete', '');

    const report = await drive(world.clock, world.remove.handle(event, invocation()));

    expect(report.records[0]).toMatchObject({ outcome: 'done', result: { answer: 'deleted', stackId } });
    expect(world.stacks.calls.find((c) => c.operation === 'delete')).toEqual({
      operation: 'delete',
      target: stackId,
      token: expect.stringMatching(/^spotjobs-delete-[0-9a-f]{48}$/),
    });
    expect(world.stacks.peek(stackId)?.status).toBe('DELETE_COMPLETE');
    expect(await world.read('home/alice/demo.cf-deleted')).toBe('af--alice--demo\n');
    expect(await world.read('home/alice/demo.cf-delete')).toBeUndefined();
    expect(world.notifier.notices).toEqual([expect.objectContaining({ outcome: 'deleted', uid: 'alice' })]);
    expect(seenAtNotice).toEqual(['af--alice--demo\n']);
  });

  it("refuses to delete another user's stack (af-user deleted whatever was named)", async () => {
    const world = await clusterWorld({ settings: { legacyStackNames: true } });
    // A stack af-user made for bob: un-namespaced name, project tag only.
    const bobs = world.stacks.seed({ stackName: 'bobcluster', tags: { project: 'bob' } });
    const event = await world.request('home/alice/bobcluster.cf-delete', '');

    const report = await drive(world.clock, world.remove.handle(event, invocation()));

    expect(report.records[0]?.outcome).toBe('refused');
    expect(world.stacks.calls.map((c) => c.operation)).not.toContain('delete');
    expect(world.stacks.peek(bobs)?.status).toBe('CREATE_COMPLETE');
    expect(await world.read('home/alice/bobcluster.cf-failed')).toBe(
      'delete request for bobcluster refused: cluster bobcluster is not yours: its stack is tagged for another user\n',
    );
    expect(await world.read('home/alice/bobcluster.cf-delete')).toBeUndefined();
    expect(world.notifier.notices).toEqual([expect.objectContaining({ outcome: 'refused', uid: 'alice' })]);
  });

  it("cannot even address another user's namespaced stack", async () => {
    const world = await clusterWorld();
    const bobs = world.stacks.seed({
      stackName: 'af--bob--demo',
      tags: { ...alicesTags, project: 'bob', 'spotjobs:owner': 'bob' },
    });
    const event = await world.request('home/alice/demo.cf-delete', '');

    await drive(world.clock, world.remove.handle(event, invocation()));

    expect(await world.read('home/alice/demo.cf-failed')).toBe(
      'delete request for demo refused: you have no cluster named demo\n',
    );
    expect(world.stacks.peek(bobs)?.status).toBe('CREATE_COMPLETE');
  });

  it('checks the owner tag even inside the user namespace', async () => {
    const world = await clusterWorld();
    world.stacks.seed({ stackName: 'af--alice--demo', tags: { project: 'alice', 'spotjobs:owner': 'bob' } });
    const event = await world.request('home/alice/demo.cf-delete', '');

    await drive(world.clock, world.remove.handle(event, invocation()));

    expect(await world.read('home/alice/demo.cf-failed')).toContain('is not yours');
    expect(world.stacks.calls.map((c) => c.operation)).not.toContain('delete');
  });

  it("deletes a user's own af-user stack (legacy name, project tag) when legacy names are on", async () => {
    const world = await clusterWorld({ settings: { legacyStackNames: true } });
    const old = world.stacks.seed({ stackName: 'oldcluster', tags: { project: 'alice' } });
    const event = await world.request('home/alice/oldcluster.cf-delete', '');

    await drive(world.clock, world.remove.handle(event, invocation()));

    expect(world.stacks.peek(old)?.status).toBe('DELETE_COMPLETE');
    expect(await world.read('home/alice/oldcluster.cf-deleted')).toBe('oldcluster\n');
  });

  it('answers .cf-failed with the cause when the deletion fails', async () => {
    const world = await clusterWorld();
    world.stacks.seed({
      stackName: 'af--alice--demo',
      tags: alicesTags,
      script: {
        deleteStatuses: ['DELETE_IN_PROGRESS', 'DELETE_IN_PROGRESS', 'DELETE_FAILED'],
        deleteFailure: 'Bucket (AWS::S3::Bucket): The bucket you tried to delete is not empty',
      },
    });
    const event = await world.request('home/alice/demo.cf-delete', '');

    await drive(world.clock, world.remove.handle(event, invocation()));

    expect(await world.read('home/alice/demo.cf-failed')).toBe(
      'delete of cluster demo failed: DELETE_FAILED: Bucket (AWS::S3::Bucket): The bucket you tried to delete is not empty\n',
    );
    expect(await world.read('home/alice/demo.cf-deleted')).toBeUndefined();
    expect(world.notifier.notices).toEqual([
      expect.objectContaining({ outcome: 'failed', subject: 'Cluster demo of alice: delete failed' }),
    ]);
  });

  it('reports a deletion running past its bound as failed', async () => {
    const world = await clusterWorld();
    world.stacks.seed({
      stackName: 'af--alice--demo',
      tags: alicesTags,
      script: { deleteStatuses: ['DELETE_IN_PROGRESS'] },
    });
    const event = await world.request('home/alice/demo.cf-delete', '');

    await drive(world.clock, world.remove.handle(event, invocation()), 60_000);

    expect(await world.read('home/alice/demo.cf-failed')).toBe(
      'delete of cluster demo failed: still DELETE_IN_PROGRESS after 20 minutes; ask the administrator\n',
    );
  });

  it('a redelivered delete does nothing more', async () => {
    const world = await clusterWorld();
    world.stacks.seed({ stackName: 'af--alice--demo', tags: alicesTags });
    const event = await world.request('home/alice/demo.cf-delete', '');

    await drive(world.clock, world.remove.handle(event, invocation('req-1')));
    const again = await drive(world.clock, world.remove.handle(event, invocation('req-2')));

    expect(again.records[0]?.outcome).toBe('duplicate');
    expect(world.stacks.calls.filter((c) => c.operation === 'delete')).toHaveLength(1);
    expect(world.notifier.notices).toHaveLength(1);
  });

  it('applies the name rules and never reads the request body', async () => {
    const world = await clusterWorld();
    const event = await world.request('home/alice/9lives.cf-delete', 'x'.repeat(100_000));

    await drive(world.clock, world.remove.handle(event, invocation()));

    expect(await world.read('home/alice/9lives.cf-failed')).toContain('must start with a letter');
    expect(world.stacks.calls).toEqual([]);
  });
});
