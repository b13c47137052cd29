// The cluster request handlers as deployed (configuration from the environment, S3 and
// DynamoDB through the real SDK against fauxqs and dynalite), driven with real S3 event
// shapes for objects a user really uploaded. CloudFormation and SES have no emulator: they
// are the in-memory ports here (their SDK adapters have their own unit tests).
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ClaimStore } from '@spotjobs/core';
import { DynamoTable } from '@spotjobs/core/aws';
import { ManualClock } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import { MemoryClusterStacks, type MemoryStackScript } from '../src/aws-ports/memory-cluster-stacks.ts';
import { MemoryNotifier } from '../src/aws-ports/memory-notifier.ts';
import type { ClusterNotice } from '../src/aws-ports/notifier.ts';
import { composeClusterTriggers } from '../src/clusters/compose-cluster-triggers.ts';
import { loadClusterTriggerConfig } from '../src/trigger-config.ts';
import { TRIGGER_CLAIM_PARTITION } from '../src/triggers/compose-job-trigger.ts';
import { createS3LambdaHandler } from '../src/triggers/lambda-handler.ts';
import { objectVersionId, objectVersionOf } from '../src/triggers/object-version.ts';
import { parseS3Event } from '../src/triggers/s3-event.ts';
import { RetryRecordsError } from '../src/triggers/trigger-errors.ts';
import { putClusterRequest, useEmulatorAws } from './emulator-aws.ts';
import { drive, s3Event } from './trigger-test-kit.ts';

const suffix = randomUUID().slice(0, 8);
const usersBucket = `af-users-${suffix}`;
const customizerBucket = `af-customizer-${suffix}`;
const tableName = `cluster-triggers-${suffix}`;
const { s3, dynamodb } = useEmulatorAws({ buckets: [usersBucket, customizerBucket], table: tableName });

function world(
  script: (name: string) => MemoryStackScript,
  onNotify?: (notice: ClusterNotice) => Promise<void>,
) {
  const config = loadClusterTriggerConfig({
    SPOTJOBS_TRIGGER_TABLE: tableName,
    SPOTJOBS_CLUSTERS_BUCKET: usersBucket,
    SPOTJOBS_CLUSTERS_CUSTOMIZER_BUCKET: customizerBucket,
    SPOTJOBS_CLUSTERS_TEMPLATE_URL: 'https://s3.amazonaws.com/templates-bucket/flight-solo.template',
    SPOTJOBS_CLUSTERS_MAX_REQUEST_BYTES: '1024',
    SPOTJOBS_CLUSTERS_LEGACY_STACK_NAMES: 'true',
  });
  const clock = new ManualClock();
  const stacks = new MemoryClusterStacks({ clock, script: (spec) => script(spec.stackName) });
  const notifier = new MemoryNotifier(onNotify ? { onNotify } : {});
  const triggers = composeClusterTriggers(config, { s3, dynamodb, stacks, notifier, clock });
  return {
    clock,
    stacks,
    notifier,
    createHandler: createS3LambdaHandler(triggers.create),
    deleteHandler: createS3LambdaHandler(triggers.delete),
  };
}

/** A user (unique per test) with a customizer profile, or without one. */
async function user(enabled = true): Promise<string> {
  const uid = `u${randomUUID().slice(0, 8)}`;
  if (enabled)
    await s3.send(
      new PutObjectCommand({
        Bucket: customizerBucket,
        Key: `customizer/${uid}/configure.d/user.sh`,
        Body: '#!/bin/sh\n',
      }),
    );
  return uid;
}

/** The user uploads a request; S3 would then send this event. */
const upload = (key: string, body: string) => putClusterRequest(s3, usersBucket, key, body);

async function read(key: string): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: usersBucket, Key: key }));
    return await out.Body?.transformToString();
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

async function keysOf(uid: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: usersBucket, Prefix: `home/${uid}/` }));
  return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
}

const lambda = (id: string) => ({ awsRequestId: id, getRemainingTimeInMillis: () => 900_000 });
const completes = () => ({
  statuses: ['CREATE_IN_PROGRESS', 'CREATE_IN_PROGRESS', 'CREATE_COMPLETE'],
  outputs: { LoginAddress: '203.0.113.7' },
});

describe('cluster requests on S3 (fauxqs) and DynamoDB (dynalite)', () => {
  it('creates: .cf-created holds the login address, the request is gone, the claim is completed, the notice came after', async () => {
    const uid = await user();
    const seenAtNotice: string[][] = [];
    const w = world(completes, async () => {
      seenAtNotice.push(await keysOf(uid));
    });
    const event = await upload(`home/${uid}/demo.cf-create`, '{"ComputeMaxNodes":"3"}');

    const report = await drive(w.clock, w.createHandler(event, lambda('req-1')));

    expect(report.records[0]).toMatchObject({ outcome: 'done', result: { answer: 'created' } });
    expect(await read(`home/${uid}/demo.cf-created`)).toBe('203.0.113.7');
    expect(await keysOf(uid)).toEqual([`home/${uid}/demo.cf-created`]);
    expect(seenAtNotice).toEqual([[`home/${uid}/demo.cf-created`]]);
    expect(w.stacks.peek(`af--${uid}--demo`)?.tags).toEqual({
      project: uid,
      'spotjobs:owner': uid,
      'spotjobs:cluster': 'demo',
    });
    const claims = new ClaimStore({
      table: new DynamoTable({ client: dynamodb, tableName }),
      partition: TRIGGER_CLAIM_PARTITION,
    });
    const objectId = objectVersionId(objectVersionOf(parseS3Event(event).records[0]!)!);
    expect(await claims.get(`cluster-create:${objectId}`)).toMatchObject({
      completed: true,
      result: { outcome: 'done', answer: 'created', answerKey: `home/${uid}/demo.cf-created` },
    });
  });

  it('a redelivered event and concurrent deliveries create one stack and send one notice', async () => {
    const uid = await user();
    const w = world(completes);
    const event = await upload(`home/${uid}/demo.cf-create`, '{}');

    const results = await drive(
      w.clock,
      Promise.allSettled(
        ['a', 'b', 'c'].map((id) => w.createHandler(structuredClone(event), lambda(`req-${id}`))),
      ),
    );
    const again = await drive(w.clock, w.createHandler(event, lambda('req-d')));

    const done = results.filter((r) => r.status === 'fulfilled' && r.value.records[0]?.outcome === 'done');
    const busyOrDuplicate = results.filter(
      (r) =>
        (r.status === 'rejected' && r.reason instanceof RetryRecordsError) ||
        (r.status === 'fulfilled' && r.value.records[0]?.outcome === 'duplicate'),
    );
    expect(done).toHaveLength(1);
    expect(busyOrDuplicate).toHaveLength(2);
    expect(again.records[0]?.outcome).toBe('duplicate');
    expect(w.stacks.calls.filter((c) => c.operation === 'create')).toHaveLength(1);
    expect(w.notifier.notices).toHaveLength(1);
  });

  it('refuses parameter overrides of the login name and profile', async () => {
    const uid = await user();
    const w = world(completes);
    const event = await upload(`home/${uid}/demo.cf-create`, '{"AccessUsername":"root"}');

    await drive(w.clock, w.createHandler(event, lambda('req-1')));

    expect(await read(`home/${uid}/demo.cf-failed`)).toBe(
      'create request for demo refused: "AccessUsername" is set by the service from your user id and cannot be overridden\n',
    );
    expect(w.stacks.calls).toEqual([]);
    expect(w.notifier.notices[0]?.outcome).toBe('refused');
  });

  it("refuses deleting another user's stack and leaves it running", async () => {
    const alice = await user();
    const w = world(completes);
    const bobs = w.stacks.seed({ stackName: 'sharedname', tags: { project: 'bob' } });
    const event = await upload(`home/${alice}/sharedname.cf-delete`, '');

    await drive(w.clock, w.deleteHandler(event, lambda('req-1')));

    expect(await read(`home/${alice}/sharedname.cf-failed`)).toContain('is not yours');
    expect(w.stacks.peek(bobs)?.status).toBe('CREATE_COMPLETE');
    expect(w.stacks.calls.map((c) => c.operation)).not.toContain('delete');
  });

  it("deletes the owner's own stack and leaves .cf-deleted", async () => {
    const uid = await user(false);
    const w = world(completes);
    const stackId = w.stacks.seed({
      stackName: `af--${uid}--demo`,
      tags: { project: uid, 'spotjobs:owner': uid },
    });
    const event = await upload(`home/${uid}/demo.cf-delete`, '');

    await drive(w.clock, w.deleteHandler(event, lambda('req-1')));

    expect(w.stacks.peek(stackId)?.status).toBe('DELETE_COMPLETE');
    expect(await keysOf(uid)).toEqual([`home/${uid}/demo.cf-deleted`]);
  });

  it('detects a failed stack and reports it in .cf-failed before the notice that says failed', async () => {
    const uid = await user();
    const seenAtNotice: Array<string | undefined> = [];
    const w = world(
      () => ({
        statuses: ['CREATE_IN_PROGRESS', 'CREATE_FAILED', 'DELETE_IN_PROGRESS', 'DELETE_COMPLETE'],
        createFailure:
          'Master (AWS::EC2::Instance): Your requested instance type is not supported in your requested Availability Zone',
      }),
      async () => {
        seenAtNotice.push(await read(`home/${uid}/demo.cf-failed`));
      },
    );
    const event = await upload(`home/${uid}/demo.cf-create`, '{}');

    await drive(w.clock, w.createHandler(event, lambda('req-1')));

    const answer =
      'create of cluster demo failed: CREATE_FAILED: Master (AWS::EC2::Instance): Your requested instance type is not supported in your requested Availability Zone\n';
    expect(await read(`home/${uid}/demo.cf-failed`)).toBe(answer);
    expect(seenAtNotice).toEqual([answer]);
    expect(w.notifier.notices[0]).toMatchObject({
      outcome: 'failed',
      subject: `Cluster demo of ${uid}: create failed`,
    });
  });

  it('refuses oversized and non-JSON requests, and users without a customizer profile', async () => {
    const uid = await user();
    const stranger = await user(false);
    const w = world(completes);
    const events = [
      await upload(`home/${uid}/big.cf-create`, `{"ComputeMaxNodes":"2"${' '.repeat(2000)}}`),
      await upload(`home/${uid}/text.cf-create`, 'ComputeMaxNodes: 2'),
      await upload(`home/${stranger}/demo.cf-create`, '{}'),
    ];

    for (const [i, event] of events.entries())
      await drive(w.clock, w.createHandler(event, lambda(`req-${i}`)));

    expect(await read(`home/${uid}/big.cf-failed`)).toBe(
      'create request for big refused: the request is 2023 bytes, over the limit of 1024 bytes\n',
    );
    expect(await read(`home/${uid}/text.cf-failed`)).toMatch(
      /^create request for text refused: the request is not JSON/,
    );
    expect(await read(`home/${stranger}/demo.cf-failed`)).toContain(
      `user ${stranger} is not enabled for clusters`,
    );
    expect(w.stacks.calls).toEqual([]);
  });

  it('rejects a request key that climbs out of the user folder, writing nothing', async () => {
    const uid = await user();
    const victim = await user();
    const w = world(completes);
    const event = await s3Event('cluster-create', {
      bucket: usersBucket,
      rawKey: `home/${uid}/..%2F${victim}%2Fdemo.cf-create`,
      sequencer: `02${suffix}`,
    });

    const report = await w.createHandler(event, lambda('req-1'));

    expect(report.records[0]).toMatchObject({
      outcome: 'rejected',
      reason: 'key has an empty, . or .. segment',
    });
    expect(await keysOf(uid)).toEqual([]);
    expect(await keysOf(victim)).toEqual([]);
    expect(w.notifier.notices).toEqual([]);
  });
});
