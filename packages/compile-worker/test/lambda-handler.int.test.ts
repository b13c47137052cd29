// The Lambda handler with real API Gateway REST (v1) proxy event shapes, composed from the
// configuration as the deployed function is, on the AWS adapters against the emulators.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ensureDynamoTable, ensureS3Bucket, ensureSqsQueue } from '@spotjobs/core/aws';
import { awsTestClientConfig } from '@spotjobs/core/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ApiGatewayProxyEvent } from '../src/aws/api-gateway-event.ts';
import { type AwsCompileBackend, awsCompileApi, awsCompileBackend } from '../src/aws/aws-compile.ts';
import { createLambdaHandler } from '../src/aws/lambda-handler.ts';
import { buildIdentity } from '../src/build/build-identity.ts';
import { buildMessageSchema } from '../src/build/build-message.ts';
import { BuildRepository } from '../src/build/build-repository.ts';
import { toBuildSpec } from '../src/build/build-spec.ts';
import { loadConfig } from '../src/config.ts';
import { drain } from './support/local-builds.ts';

const endpoints = inject('emulators');
const sqs = new SQSClient({ ...awsTestClientConfig, endpoint: endpoints.sqs });
const s3 = new S3Client({ ...awsTestClientConfig, endpoint: endpoints.s3 });
const dynamodb = new DynamoDBClient({ ...awsTestClientConfig, endpoint: endpoints.dynamodb });
const suffix = randomUUID().slice(0, 8);
const API_KEY = 'lambda-key-0123456789abcdef';
const digest = `sha256:${'c'.repeat(64)}`;
let backend: AwsCompileBackend;
let handler: ReturnType<typeof createLambdaHandler>;
let profile: ReturnType<typeof loadConfig>['profile'];

beforeAll(async () => {
  const { queueUrl, deadLetterQueueUrl } = await ensureSqsQueue(sqs, `lambda-${suffix}`);
  await ensureDynamoTable(dynamodb, `lambda-${suffix}`);
  await ensureS3Bucket(s3, `lambda-${suffix}`);
  const config = loadConfig({
    SPOTJOBS_COMPILE_BACKEND: 'aws',
    SPOTJOBS_COMPILE_QUEUE_URL: queueUrl,
    SPOTJOBS_COMPILE_DLQ_URL: deadLetterQueueUrl,
    SPOTJOBS_COMPILE_TABLE: `lambda-${suffix}`,
    SPOTJOBS_COMPILE_BUCKET: `lambda-${suffix}`,
    SPOTJOBS_COMPILE_IMAGE_DIGEST: digest,
    SPOTJOBS_COMPILE_API_KEYS: API_KEY,
  });
  profile = config.profile;
  backend = awsCompileBackend(config.aws!, { sqs, s3, dynamodb });
  handler = createLambdaHandler(() => awsCompileApi(config, backend));
});

afterAll(() => {
  sqs.destroy();
  s3.destroy();
  dynamodb.destroy();
});

async function fixture(name: string, replace: Record<string, string> = {}): Promise<ApiGatewayProxyEvent> {
  let text = await readFile(new URL(`./fixtures/api-gateway/${name}.json`, import.meta.url), 'utf8');
  for (const [from, to] of Object.entries(replace)) text = text.replaceAll(from, to);
  return JSON.parse(text) as ApiGatewayProxyEvent;
}

const lambdaContext = { getRemainingTimeInMillis: () => 10_000 };

describe('Lambda handler (API Gateway REST proxy events)', () => {
  it('refuses an anonymous first request of the original client and enqueues nothing', async () => {
    const event = await fixture('compat-get-anonymous');

    const result = await handler(event, lambdaContext);

    expect(result).toMatchObject({ statusCode: 401, isBase64Encoded: false });
    expect(JSON.parse(result.body)).toEqual({
      status: 'FAILED',
      errorMessage:
        'requesting a new build needs an API key (x-api-key or Authorization: Bearer) or IAM authorization',
    });
    expect(await drain(backend.queue)).toHaveLength(0);
  });

  it('accepts an IAM-signed request (SigV4 header ignored, requestContext principal used) and enqueues once', async () => {
    const event = await fixture('compat-get-iam');

    const first = await handler(event, lambdaContext);
    const second = await handler(event, lambdaContext);

    expect(first).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: '{"status":"WAIT"}',
      isBase64Encoded: false,
    });
    expect(second.body).toBe('{"status":"WAIT"}');
    const messages = await drain(backend.queue);
    expect(messages).toHaveLength(1);
    const job = buildMessageSchema.parse(JSON.parse(messages[0]!.body));
    expect(job).toMatchObject({
      packageExpression: 'app-text/tree-1.7.0',
      useflag: 'static-libs',
      profile: { imageDigest: digest },
    });
    const build = await handlerBuild(job.buildId);
    expect(build.requestedBy).toBe('iam:arn:aws:sts::123456789012:assumed-role/compile-ci/ci-session');
  });

  it("decodes the original client's double-encoded USE once more, as API Gateway already decoded once", async () => {
    // The anonymous event, now from a client holding a key (the original client can be given
    // one through a proxy; here the header is simply added).
    const event = await fixture('compat-get-anonymous');
    const withKey = {
      ...event,
      headers: { ...event.headers, 'x-api-key': API_KEY },
      multiValueHeaders: null,
    };

    const result = await handler(withKey, lambdaContext);

    expect(result.body).toBe('{"status":"WAIT"}');
    const [message] = await drain(backend.queue);
    const job = buildMessageSchema.parse(JSON.parse(message!.body));
    expect(job.use).toEqual(['gpm', 'imlib', 'jpeg', 'ncurses']);
    expect(job.buildId).toBe(
      buildIdentity(
        toBuildSpec({ category: 'media-libs', name: 'imlib2', version: '1.4.10' }, 'gpm imlib jpeg ncurses'),
        profile,
      ),
    );
    // Anonymous polling of the now existing build is open: WAIT, and nothing more is sent.
    expect((await handler(event, lambdaContext)).body).toBe('{"status":"WAIT"}');
    expect(await drain(backend.queue)).toHaveLength(0);
  });

  it('submits through POST /v1/builds with a base64 body and an API key, then reads it with an authorizer principal', async () => {
    const post = await fixture('builds-post-api-key', { __API_KEY__: API_KEY });

    const created = await handler(post, lambdaContext);

    expect(created.statusCode).toBe(201);
    const view = JSON.parse(created.body) as { id: string; state: string; use: string[] };
    expect(view).toMatchObject({ state: 'queued', use: ['-doc', 'ssl'] });
    expect(created.headers.location).toBe(`/v1/builds/${view.id}`);
    expect(await drain(backend.queue)).toHaveLength(1);
    const wrongKey = await handler(
      await fixture('builds-post-api-key', { __API_KEY__: 'not-the-key-0123456789' }),
      lambdaContext,
    );
    expect(wrongKey.statusCode).toBe(401);
    expect(JSON.parse(wrongKey.body)).toMatchObject({ error: { code: 'UNAUTHORIZED' } });

    const read = await handler(await fixture('builds-get-by-id', { __ID__: view.id }), lambdaContext);

    expect(read.statusCode).toBe(200);
    expect(JSON.parse(read.body)).toMatchObject({
      id: view.id,
      state: 'queued',
      atom: 'app-misc/ranger-1.8.1',
    });
    expect(await drain(backend.queue)).toHaveLength(0);
  });

  it('answers 400 for bad input in the event, and 404 for an unknown route', async () => {
    const event = await fixture('compat-get-iam');
    const bad = {
      ...event,
      queryStringParameters: null,
      multiValueQueryStringParameters: {
        package: ['app-text/tree'],
        version: ['1.7.0;reboot'],
        useflag: ['a', 'b'],
      },
    };

    const refused = await handler(bad, lambdaContext);
    const unknown = await handler({ ...event, path: '/admin' }, lambdaContext);

    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body).errorMessage).toBe(
      'useflag: is given 2 times; give it once; version: "1.7.0;reboot" contains ";" (a version has only 0-9 a-z . _ -)',
    );
    expect(unknown.statusCode).toBe(404);
    expect(await drain(backend.queue)).toHaveLength(0);
  });
});

async function handlerBuild(id: string) {
  const found = await new BuildRepository(backend.table).get(id);
  return found!.record;
}
