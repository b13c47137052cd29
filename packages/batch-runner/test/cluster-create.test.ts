import { describe, expect, it } from 'vitest';
import { RetryRecordsError } from '../src/triggers/trigger-errors.ts';
import { clusterWorld, drive, invocation, s3Event } from './trigger-test-kit.ts';

const completes =
  (address = '203.0.113.7') =>
  () => ({
    statuses: ['CREATE_IN_PROGRESS', 'CREATE_IN_PROGRESS', 'CREATE_COMPLETE'],
    outputs: { LoginAddress: address },
  });

describe('cluster create (.cf-create)', () => {
  it('creates a namespaced, tagged stack, writes .cf-created with the login address, deletes the request, then notifies', async () => {
    const seenAtNotice: Array<{ created?: string; request?: string }> = [];
    const world = await clusterWorld({
      script: completes(),
      onNotify: async () => {
        seenAtNotice.push({
          created: await world.read('home/alice/demo.cf-created'),
          request: await world.read('home/alice/demo.cf-create'),
        });
      },
    });
    await world.enable('alice');
    const event = await world.request(
      'home/alice/demo.cf-create',
      '{"ComputeMaxNodes":"6","ComputeSpotPrice":0.05}',
    );

    const report = await drive(world.clock, world.create.handle(event, invocation()));

    expect(report.records[0]).toMatchObject({
      outcome: 'done',
      result: { answer: 'created', address: '203.0.113.7' },
    });
    expect(await world.read('home/alice/demo.cf-created')).toBe('203.0.113.7');
    expect(await world.read('home/alice/demo.cf-create')).toBeUndefined();
    const spec = world.stacks.calls.find((c) => c.operation === 'create')?.spec;
    expect(spec).toMatchObject({
      stackName: 'af--alice--demo',
      templateUrl: 'https://s3.amazonaws.com/templates-bucket/flight-solo.template',
      capabilities: ['CAPABILITY_IAM'],
      tags: { project: 'alice', 'spotjobs:owner': 'alice', 'spotjobs:cluster': 'demo' },
      clientRequestToken: expect.stringMatching(/^spotjobs-create-[0-9a-f]{48}$/),
      timeoutMinutes: 30,
      onFailure: 'DELETE',
    });
    expect(spec?.parameters).toMatchObject({
      ComputeMaxNodes: '6',
      ComputeSpotPrice: '0.05',
      AccessUsername: 'alice',
      FlightProfiles: 'alice',
    });
    expect(world.notifier.notices).toEqual([
      expect.objectContaining({ outcome: 'created', uid: 'alice', cluster: 'demo' }),
    ]);
    expect(world.notifier.notices[0]?.text).toContain('Login address: 203.0.113.7');
    expect(seenAtNotice).toEqual([{ created: '203.0.113.7', request: undefined }]);
  });

  it('a redelivered event creates nothing more and sends no second notice', async () => {
    const world = await clusterWorld({ script: completes() });
    await world.enable('alice');
    const event = await world.request('home/alice/demo.cf-create', '{}');

    await drive(world.clock, world.create.handle(event, invocation('req-1')));
    const again = await drive(world.clock, world.create.handle(event, invocation('req-2')));

    expect(again.records[0]?.outcome).toBe('duplicate');
    expect(world.stacks.calls.filter((c) => c.operation === 'create')).toHaveLength(1);
    expect(world.notifier.notices).toHaveLength(1);
  });

  it('detects a failed stack, answers .cf-failed with the cause from the stack events, and notifies after, saying failed', async () => {
    const seenAtNotice: Array<string | undefined> = [];
    const world = await clusterWorld({
      script: () => ({
        statuses: ['CREATE_IN_PROGRESS', 'CREATE_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS', 'ROLLBACK_COMPLETE'],
        createFailure: 'Master (AWS::EC2::Instance): We currently do not have sufficient c4.large capacity',
      }),
      onNotify: async () => {
        seenAtNotice.push(await world.read('home/alice/demo.cf-failed'));
      },
    });
    await world.enable('alice');
    const event = await world.request('home/alice/demo.cf-create', '{}');

    const report = await drive(world.clock, world.create.handle(event, invocation()));

    const answer =
      'create of cluster demo failed: ROLLBACK_IN_PROGRESS: Master (AWS::EC2::Instance): We currently do not have sufficient c4.large capacity\n';
    expect(report.records[0]).toMatchObject({
      outcome: 'done',
      result: { answer: 'failed', stage: 'create' },
    });
    expect(await world.read('home/alice/demo.cf-failed')).toBe(answer);
    expect(await world.read('home/alice/demo.cf-created')).toBeUndefined();
    expect(await world.read('home/alice/demo.cf-create')).toBeUndefined();
    expect(world.notifier.notices).toEqual([
      expect.objectContaining({ outcome: 'failed', subject: 'Cluster demo of alice: create failed' }),
    ]);
    expect(world.notifier.notices[0]?.text).toContain('sufficient c4.large capacity');
    expect(seenAtNotice).toEqual([answer]);
    // Reported at the first failed status, not after spinning until a timeout.
    expect(world.stacks.calls.filter((c) => c.operation === 'describe')).toHaveLength(3);
  });

  it('refuses overriding the login name and the profile: no stack, .cf-failed, notice says refused', async () => {
    const world = await clusterWorld({ script: completes() });
    await world.enable('alice');
    const event = await world.request(
      'home/alice/demo.cf-create',
      '{"AccessUsername":"bob","FlightProfiles":"bob","ComputeMaxNodes":"2"}',
    );

    const report = await drive(world.clock, world.create.handle(event, invocation()));

    expect(report.records[0]?.outcome).toBe('refused');
    expect(world.stacks.calls).toEqual([]);
    expect(await world.read('home/alice/demo.cf-failed')).toBe(
      'create request for demo refused: "AccessUsername" is set by the service from your user id and cannot be overridden; "FlightProfiles" is set by the service from your user id and cannot be overridden\n',
    );
    expect(await world.read('home/alice/demo.cf-create')).toBeUndefined();
    expect(world.notifier.notices).toEqual([
      expect.objectContaining({
        outcome: 'refused',
        subject: 'Cluster demo of alice: create request refused',
      }),
    ]);
  });

  it('refuses users without a customizer profile (the gate), before reading the request', async () => {
    const world = await clusterWorld({ script: completes() });
    const event = await world.request('home/mallory/demo.cf-create', 'not even json');

    await drive(world.clock, world.create.handle(event, invocation()));

    expect(world.stacks.calls).toEqual([]);
    expect(await world.read('home/mallory/demo.cf-failed')).toBe(
      'create request for demo refused: user mallory is not enabled for clusters (no customizer profile customizer/mallory/configure.d/user.sh)\n',
    );
  });

  it.each([
    ['non-JSON', 'ComputeMaxNodes=4', /^create request for demo refused: the request is not JSON: /],
    ['a JSON array', '["ComputeMaxNodes"]', /a JSON object of parameter names/],
    [
      'an unknown parameter',
      '{"InstanceType":"p4d.24xlarge"}',
      /"InstanceType" is not a parameter you can set/,
    ],
    ['an out-of-bounds value', '{"ComputeMaxNodes":"25"}', /"ComputeMaxNodes" must be between 1 and 8/],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), /not UTF-8 text/],
  ])('refuses %s requests in .cf-failed', async (_what, body, reason) => {
    const world = await clusterWorld({ script: completes() });
    await world.enable('alice');
    const event = await world.request('home/alice/demo.cf-create', body as string);

    const report = await drive(world.clock, world.create.handle(event, invocation()));

    expect(report.records[0]?.outcome).toBe('refused');
    expect(await world.read('home/alice/demo.cf-failed')).toMatch(reason);
    expect(world.stacks.calls).toEqual([]);
  });

  it('an empty request means all defaults', async () => {
    const world = await clusterWorld({ script: completes() });
    await world.enable('alice');
    const event = await world.request('home/alice/demo.cf-create', '  \n');

    await drive(world.clock, world.create.handle(event, invocation()));

    expect(world.stacks.calls[0]?.spec?.parameters).toMatchObject({
      ComputeMaxNodes: '4',
      AccessUsername: 'alice',
    });
  });

  it('refuses oversized requests: by the event size unread, and when the object is larger than announced', async () => {
    const world = await clusterWorld({ script: completes(), settings: { maxRequestBytes: 64 } });
    await world.enable('alice');
    const big = `{"ComputeMaxNodes":"4"${' '.repeat(200)}}`;
    const announced = await world.request('home/alice/big.cf-create', big);
    const understated = await world.request('home/alice/sly.cf-create', big, { size: 20 });

    await drive(world.clock, world.create.handle(announced, invocation('req-1')));
    await drive(world.clock, world.create.handle(understated, invocation('req-2')));

    expect(await world.read('home/alice/big.cf-failed')).toBe(
      'create request for big refused: the request is 223 bytes, over the limit of 64 bytes\n',
    );
    expect(await world.read('home/alice/sly.cf-failed')).toBe(
      'create request for sly refused: the request is larger than the limit of 64 bytes\n',
    );
    expect(world.stacks.calls).toEqual([]);
  });

  it('rejects keys with .. or encoded separators without writing anything anywhere', async () => {
    const world = await clusterWorld({ script: completes() });
    await world.enable('alice');
    await world.enable('bob');
    const events = [
      await s3Event('cluster-create', { rawKey: 'home/alice/..%2Fbob%2Fdemo.cf-create' }),
      await s3Event('cluster-create', { rawKey: 'home/alice/../bob/demo.cf-create' }),
      await s3Event('cluster-create', { rawKey: 'home/alice/x%252F..%252Fbob.cf-create' }),
      await s3Event('cluster-create', { rawKey: 'home/alice//demo.cf-create' }),
      await s3Event('cluster-create', { rawKey: 'home/demo.cf-create' }),
      await s3Event('cluster-create', { bucket: 'another-bucket' }),
    ];

    const outcomes = [];
    for (const event of events) outcomes.push((await world.create.handle(event, invocation())).records[0]);

    expect(outcomes.map((o) => o?.outcome)).toEqual(Array(6).fill('rejected'));
    expect(outcomes.map((o) => o?.reason)).toEqual([
      'key has an empty, . or .. segment',
      'key has an empty, . or .. segment',
      'key contains a percent-encoded slash or backslash',
      'key has an empty, . or .. segment',
      'the request is not inside a user folder',
      'bucket another-bucket is not the cluster request bucket',
    ]);
    expect(world.stacks.calls).toEqual([]);
    expect(world.notifier.notices).toEqual([]);
    expect((await world.ports.requests.list()).items).toEqual([]);
  });

  it("keeps users in their own folder and namespace: a request in a sub-folder is refused, and two users' names never collide", async () => {
    const world = await clusterWorld({ script: completes() });
    await world.enable('alice');
    await world.enable('bob');
    const nested = await world.request('home/alice/bob/demo.cf-create', '{}');
    const alices = await world.request('home/alice/demo.cf-create', '{}');
    const bobs = await world.request('home/bob/demo.cf-create', '{}');

    await drive(world.clock, world.create.handle(nested, invocation('req-1')));
    await drive(world.clock, world.create.handle(alices, invocation('req-2')));
    await drive(world.clock, world.create.handle(bobs, invocation('req-3')));

    expect(await world.read('home/alice/bob/demo.cf-failed')).toBe(
      'create request for demo refused: requests must sit directly in your folder, not in bob/\n',
    );
    expect(world.stacks.calls.filter((c) => c.operation === 'create').map((c) => c.target)).toEqual([
      'af--alice--demo',
      'af--bob--demo',
    ]);
    expect(world.stacks.peek('af--bob--demo')?.tags.project).toBe('bob');
  });

  it('refuses user ids that cannot name a stack, and notices then go to fixed addresses only', async () => {
    const world = await clusterWorld({ script: completes() });
    await world.enable('john.smith');
    const event = await world.request('home/john.smith/demo.cf-create', '{}');

    await drive(world.clock, world.create.handle(event, invocation()));

    expect(await world.read('home/john.smith/demo.cf-failed')).toContain('user id "john.smith" must be');
    expect(world.notifier.notices[0]).toMatchObject({ outcome: 'refused', uid: undefined });
  });

  it('does not take over a stack of that name owned by someone else', async () => {
    const world = await clusterWorld({ script: completes() });
    await world.enable('alice');
    world.stacks.seed({
      stackName: 'af--alice--demo',
      tags: { project: 'mallory' },
      outputs: { LoginAddress: '198.51.100.66' },
    });
    const event = await world.request('home/alice/demo.cf-create', '{}');

    await drive(world.clock, world.create.handle(event, invocation()));

    expect(await world.read('home/alice/demo.cf-failed')).toBe(
      'create of cluster demo failed: a stack named af--alice--demo already exists and is not yours\n',
    );
    expect(await world.read('home/alice/demo.cf-created')).toBeUndefined();
  });

  it("an existing stack of the user's own (AlreadyExists) is followed to its outcome, not recreated", async () => {
    const world = await clusterWorld({ script: completes() });
    await world.enable('alice');
    const stackId = world.stacks.seed({
      stackName: 'af--alice--demo',
      statuses: ['CREATE_IN_PROGRESS', 'CREATE_IN_PROGRESS', 'CREATE_COMPLETE'],
      tags: { project: 'alice', 'spotjobs:owner': 'alice' },
      outputs: { LoginAddress: '198.51.100.8' },
    });
    const event = await world.request('home/alice/demo.cf-create', '{}');

    const report = await drive(world.clock, world.create.handle(event, invocation()));

    expect(report.records[0]).toMatchObject({ outcome: 'done', result: { answer: 'created', stackId } });
    expect(await world.read('home/alice/demo.cf-created')).toBe('198.51.100.8');
    expect(world.stacks.calls.filter((c) => c.operation === 'create')).toHaveLength(1);
  });

  it('reports a template refusal from CloudFormation as .cf-failed', async () => {
    const world = await clusterWorld({
      script: () => ({ reject: 'Parameter ComputeInstanceTypeOther failed to satisfy constraint' }),
    });
    await world.enable('alice');
    const event = await world.request('home/alice/demo.cf-create', '{}');

    await drive(world.clock, world.create.handle(event, invocation()));

    expect(await world.read('home/alice/demo.cf-failed')).toBe(
      'create of cluster demo failed: Parameter ComputeInstanceTypeOther failed to satisfy constraint\n',
    );
    expect(world.notifier.notices[0]?.outcome).toBe('failed');
  });

  it('reports a creation still running past its bound as failed instead of waiting forever', async () => {
    const world = await clusterWorld({ script: () => ({ statuses: ['CREATE_IN_PROGRESS'] }) });
    await world.enable('alice');
    const event = await world.request('home/alice/demo.cf-create', '{}');

    await drive(world.clock, world.create.handle(event, invocation()), 60_000);

    expect(await world.read('home/alice/demo.cf-failed')).toBe(
      'create of cluster demo failed: still CREATE_IN_PROGRESS 35 minutes after it started; ask the administrator\n',
    );
  });

  it('reports a completed stack without the login output as failed and keeps the stack', async () => {
    const world = await clusterWorld({
      script: () => ({ statuses: ['CREATE_COMPLETE'], outputs: { Other: 'x' } }),
    });
    await world.enable('alice');
    const event = await world.request('home/alice/demo.cf-create', '{}');

    await drive(world.clock, world.create.handle(event, invocation()));

    expect(await world.read('home/alice/demo.cf-failed')).toBe(
      'create of cluster demo failed: the stack is CREATE_COMPLETE but has no output LoginAddress; it was kept, delete it with demo.cf-delete\n',
    );
    expect(world.stacks.calls.map((c) => c.operation)).not.toContain('delete');
  });

  it('at the invocation deadline it writes nothing and asks for a retry, which resumes the same stack', async () => {
    const world = await clusterWorld({
      script: () => ({
        statuses: ['CREATE_IN_PROGRESS', ...Array(6).fill('CREATE_IN_PROGRESS'), 'CREATE_COMPLETE'],
        outputs: { LoginAddress: '203.0.113.9' },
      }),
    });
    await world.enable('alice');
    const event = await world.request('home/alice/demo.cf-create', '{}');
    const deadline = new AbortController();

    const first = world.create.handle(event, invocation('req-1', deadline.signal));
    while (world.stacks.calls.filter((c) => c.operation === 'describe').length < 3) {
      await new Promise((resolve) => setImmediate(resolve));
      await world.clock.advance(10_000);
    }
    deadline.abort(new DOMException('deadline', 'TimeoutError'));
    const error = await first.catch((err: unknown) => err);
    const written = await world.read('home/alice/demo.cf-created');
    const retry = await drive(world.clock, world.create.handle(event, invocation('req-1')));

    expect(error).toBeInstanceOf(RetryRecordsError);
    expect((error as RetryRecordsError).report.records[0]?.reason).toBe('the invocation ran out of time');
    expect(written).toBeUndefined();
    expect(retry.records[0]).toMatchObject({ outcome: 'done', result: { answer: 'created' } });
    expect(await world.read('home/alice/demo.cf-created')).toBe('203.0.113.9');
    expect(world.stacks.calls.filter((c) => c.operation === 'create')).toHaveLength(2);
    expect(
      new Set(
        world.stacks.calls.filter((c) => c.operation === 'create').map((c) => c.spec?.clientRequestToken),
      ).size,
    ).toBe(1);
    expect(world.notifier.notices).toHaveLength(1);
  });

  it('a notice that cannot be sent does not undo or fail the outcome', async () => {
    const world = await clusterWorld({
      script: completes(),
      onNotify: () => {
        throw new Error('SES: Email address is not verified');
      },
    });
    await world.enable('alice');
    const event = await world.request('home/alice/demo.cf-create', '{}');

    const report = await drive(world.clock, world.create.handle(event, invocation()));

    expect(report.records[0]).toMatchObject({
      outcome: 'done',
      result: { answer: 'created', notified: false },
    });
    expect(await world.read('home/alice/demo.cf-created')).toBe('203.0.113.7');
  });

  it('an event for a request that is already gone is skipped', async () => {
    const world = await clusterWorld({ script: completes() });
    await world.enable('alice');
    const event = await world.request('home/alice/demo.cf-create', '{}');
    await world.ports.requests.delete('home/alice/demo.cf-create');

    const report = await drive(world.clock, world.create.handle(event, invocation()));

    expect(report.records[0]).toMatchObject({ outcome: 'skipped' });
    expect(world.stacks.calls).toEqual([]);
    expect(world.notifier.notices).toEqual([]);
  });

  it('ignores its own answers and delete requests', async () => {
    const world = await clusterWorld({ script: completes() });
    const events = [
      await s3Event('cluster-create', { rawKey: 'home/alice/demo.cf-created' }),
      await s3Event('cluster-create', { rawKey: 'home/alice/demo.cf-failed' }),
      await s3Event('cluster-delete'),
    ];

    for (const event of events)
      expect((await world.create.handle(event, invocation())).records[0]?.outcome).toBe('ignored');
  });
});
