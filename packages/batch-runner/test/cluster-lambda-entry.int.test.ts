// The cluster Lambdas as deployed: `createHandler` / `deleteHandler` from the entry file,
// configured only through the environment, their default SDK clients reaching S3 (fauxqs),
// DynamoDB (dynalite) and stand-ins for CloudFormation and SES (loopback HTTP servers
// speaking their query protocols; no emulator exists) through AWS_ENDPOINT_URL_*.
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, inject, it, vi } from 'vitest';
import type { AdmissionReport } from '../src/triggers/admission-types.ts';
import { putClusterRequest, useEmulatorAws } from './emulator-aws.ts';
import { type FakeResponse, type SeenRequest, startFakeAwsServer, withEnv } from './trigger-test-kit.ts';

const endpoints = inject('emulators');
const suffix = randomUUID().slice(0, 8);
const usersBucket = `users-${suffix}`;
const customizerBucket = `customizer-${suffix}`;
const tableName = `cluster-entry-${suffix}`;
const { s3 } = useEmulatorAws({ buckets: [usersBucket, customizerBucket], table: tableName });
const CFN = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
const SES = 'http://ses.amazonaws.com/doc/2010-12-01/';

interface FakeStack {
  id: string;
  name: string;
  tags: Record<string, string>;
  statuses: string[];
}

/** A stand-in for CloudFormation: stacks move one status per DescribeStacks. */
function cloudFormation(script: (name: string) => string[]) {
  const stacks: FakeStack[] = [];
  const find = (nameOrId: string | null) => stacks.find((s) => s.id === nameOrId || s.name === nameOrId);
  const reply = (action: string, result = '') => ({
    status: 200,
    body: `<${action}Response xmlns="${CFN}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></${action}Response>`,
  });
  const stackXml = (s: FakeStack) =>
    `<member><StackName>${s.name}</StackName><StackId>${s.id}</StackId><CreationTime>${new Date().toISOString()}</CreationTime>` +
    `<StackStatus>${s.statuses.length > 1 ? s.statuses.shift() : s.statuses[0]}</StackStatus>` +
    `<Tags>${Object.entries(s.tags)
      .map(([k, v]) => `<member><Key>${k}</Key><Value>${v}</Value></member>`)
      .join('')}</Tags>` +
    '<Outputs><member><OutputKey>LoginAddress</OutputKey><OutputValue>203.0.113.44</OutputValue></member></Outputs></member>';
  return {
    stacks,
    seed(stack: FakeStack) {
      stacks.push(stack);
    },
    respond({ form }: SeenRequest): FakeResponse {
      const name = form.get('StackName');
      switch (form.get('Action')) {
        case 'CreateStack': {
          const tags: Record<string, string> = {};
          for (let i = 1; form.has(`Tags.member.${i}.Key`); i++)
            tags[form.get(`Tags.member.${i}.Key`)!] = form.get(`Tags.member.${i}.Value`)!;
          const stack = {
            id: `arn:aws:cloudformation:us-east-1:123456789012:stack/${name}/${randomUUID()}`,
            name: name!,
            tags,
            statuses: script(name!),
          };
          stacks.push(stack);
          return reply('CreateStack', `<StackId>${stack.id}</StackId>`);
        }
        case 'DescribeStacks': {
          const stack = find(name);
          if (!stack)
            return {
              status: 400,
              body: `<ErrorResponse xmlns="${CFN}"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${name} does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
            };
          return reply('DescribeStacks', `<Stacks>${stackXml(stack)}</Stacks>`);
        }
        case 'DeleteStack': {
          const stack = find(name);
          if (stack) stack.statuses = ['DELETE_IN_PROGRESS', 'DELETE_COMPLETE'];
          return {
            status: 200,
            body: `<DeleteStackResponse xmlns="${CFN}"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteStackResponse>`,
          };
        }
        default:
          return reply(form.get('Action') ?? 'Unknown', '<StackEvents/>');
      }
    },
  };
}

async function objectsOf(uid: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: usersBucket, Prefix: `home/${uid}/` }));
  return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
}

async function deployed(cfnUrl: string, sesUrl: string) {
  withEnv({
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_CLOUDFORMATION: cfnUrl,
    AWS_ENDPOINT_URL_SES: sesUrl,
    SPOTJOBS_TRIGGER_LOG_LEVEL: 'silent',
    SPOTJOBS_TRIGGER_TABLE: tableName,
    SPOTJOBS_TRIGGER_S3_FORCE_PATH_STYLE: 'true',
    SPOTJOBS_CLUSTERS_BUCKET: usersBucket,
    SPOTJOBS_CLUSTERS_CUSTOMIZER_BUCKET: customizerBucket,
    SPOTJOBS_CLUSTERS_TEMPLATE_URL: 'https://s3.amazonaws.com/templates-bucket/flight-solo.template',
    SPOTJOBS_CLUSTERS_POLL_SECONDS: '1',
    SPOTJOBS_CLUSTERS_LEGACY_STACK_NAMES: 'true',
    SPOTJOBS_CLUSTERS_NOTIFY_FROM: 'clusters@example.ac.uk',
    SPOTJOBS_CLUSTERS_NOTIFY_TO: 'admin@example.ac.uk,{uid}@example.ac.uk',
  });
  vi.resetModules();
  const entry = await import('../src/clusters/lambda-entry.ts');
  type Handler = (event: unknown, context: unknown) => Promise<AdmissionReport>;
  return { create: entry.createHandler as Handler, remove: entry.deleteHandler as Handler };
}

const upload = (key: string, body: string) => putClusterRequest(s3, usersBucket, key, body);

const lambda = (id: string) => ({ awsRequestId: id, getRemainingTimeInMillis: () => 120_000 });

describe('cluster Lambdas (entry file, environment, S3 and DynamoDB emulators, CloudFormation and SES stand-ins)', () => {
  it('creates the stack, answers .cf-created, and e-mails only once the answer is in S3', async () => {
    const uid = `u${suffix}`;
    await s3.send(
      new PutObjectCommand({
        Bucket: customizerBucket,
        Key: `customizer/${uid}/configure.d/user.sh`,
        Body: '#!/bin/sh\n',
      }),
    );
    const cfn = cloudFormation(() => ['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']);
    const cfnServer = await startFakeAwsServer((r) => cfn.respond(r));
    const objectsAtMail: string[][] = [];
    const sesServer = await startFakeAwsServer(async () => {
      objectsAtMail.push(await objectsOf(uid));
      return {
        status: 200,
        body: `<SendEmailResponse xmlns="${SES}"><SendEmailResult><MessageId>m</MessageId></SendEmailResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></SendEmailResponse>`,
      };
    });
    const handlers = await deployed(cfnServer.url, sesServer.url);
    const event = await upload(`home/${uid}/demo.cf-create`, '{"ComputeMaxNodes":"2"}');

    const report = await handlers.create(event, lambda('req-1'));

    expect(report.records[0]).toMatchObject({ outcome: 'done', result: { answer: 'created' } });
    const created = await s3.send(
      new GetObjectCommand({ Bucket: usersBucket, Key: `home/${uid}/demo.cf-created` }),
    );
    expect(await created.Body?.transformToString()).toBe('203.0.113.44');
    expect(await objectsOf(uid)).toEqual([`home/${uid}/demo.cf-created`]);
    const create = cfnServer.requests.find((r) => r.form.get('Action') === 'CreateStack')!.form;
    expect(create.get('StackName')).toBe(`af--${uid}--demo`);
    expect(create.get('ClientRequestToken')).toMatch(/^spotjobs-create-[0-9a-f]{48}$/);
    expect(cfn.stacks[0]?.tags).toEqual({ project: uid, 'spotjobs:cluster': 'demo', 'spotjobs:owner': uid });
    expect(sesServer.requests).toHaveLength(1);
    expect(sesServer.requests[0]?.form.get('Destination.ToAddresses.member.2')).toBe(`${uid}@example.ac.uk`);
    expect(sesServer.requests[0]?.form.get('Message.Subject.Data')).toBe(`Cluster demo of ${uid}: created`);
    expect(objectsAtMail).toEqual([[`home/${uid}/demo.cf-created`]]);
  });

  it("refuses to delete another user's stack: no DeleteStack call, .cf-failed, the notice says refused", async () => {
    const uid = `v${suffix}`;
    const cfn = cloudFormation(() => ['CREATE_COMPLETE']);
    cfn.seed({
      id: 'arn:aws:cloudformation:us-east-1:123456789012:stack/victim/1',
      name: 'victim',
      tags: { project: 'someone-else' },
      statuses: ['CREATE_COMPLETE'],
    });
    const cfnServer = await startFakeAwsServer((r) => cfn.respond(r));
    const sesServer = await startFakeAwsServer(() => ({
      status: 200,
      body: `<SendEmailResponse xmlns="${SES}"><SendEmailResult><MessageId>m</MessageId></SendEmailResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></SendEmailResponse>`,
    }));
    const handlers = await deployed(cfnServer.url, sesServer.url);
    const event = await upload(`home/${uid}/victim.cf-delete`, '');

    const report = await handlers.remove(event, lambda('req-2'));

    expect(report.records[0]?.outcome).toBe('refused');
    expect(cfnServer.requests.map((r) => r.form.get('Action'))).not.toContain('DeleteStack');
    expect(await objectsOf(uid)).toEqual([`home/${uid}/victim.cf-failed`]);
    expect(sesServer.requests[0]?.form.get('Message.Subject.Data')).toBe(
      `Cluster victim of ${uid}: delete request refused`,
    );
  });
});
