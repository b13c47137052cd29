// Shared by the trigger and cluster tests: real S3 event shapes from fixtures, a local store
// per test (LocalTable, FsBlobStore), and a driver for the manual clock.
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { ClaimStore, type Clock } from '@spotjobs/core';
import { type LocalStore, openLocalStore } from '@spotjobs/core/local';
import { ManualClock } from '@spotjobs/core/testing';
import { onTestFinished } from 'vitest';
import type { StackSpec } from '../src/aws-ports/cluster-stacks.ts';
import { MemoryClusterStacks, type MemoryStackScript } from '../src/aws-ports/memory-cluster-stacks.ts';
import { MemoryNotifier } from '../src/aws-ports/memory-notifier.ts';
import type { ClusterNotice } from '../src/aws-ports/notifier.ts';
import { clusterCreateSteps } from '../src/clusters/cluster-create.ts';
import { clusterDeleteSteps } from '../src/clusters/cluster-delete.ts';
import { afUserParameterPolicy } from '../src/clusters/cluster-parameters.ts';
import type { ClusterPorts, ClusterSettings } from '../src/clusters/cluster-settings.ts';
import { Admission } from '../src/triggers/admission.ts';
import { TRIGGER_CLAIM_PARTITION } from '../src/triggers/compose-job-trigger.ts';

/** The JSON S3 hands a Lambda function. */
export interface S3EventJson {
  Records: Array<
    Record<string, unknown> & { s3: { bucket: { name: string }; object: Record<string, unknown> } }
  >;
}

export type FixtureName =
  | 'object-created-put'
  | 'object-created-unversioned'
  | 'cluster-create'
  | 'cluster-delete'
  | 'object-removed';

/** Changes to a fixture's only record; `null` removes the field (as S3 omits it). */
export interface RecordChanges {
  readonly bucket?: string;
  /** As S3 writes it: URL-encoded, `+` for spaces. */
  readonly rawKey?: string;
  readonly size?: number | null;
  readonly versionId?: string | null;
  readonly sequencer?: string | null;
  readonly eventName?: string;
}

/** A fixture event with its record changed. */
export async function s3Event(name: FixtureName, changes: RecordChanges = {}): Promise<S3EventJson> {
  const text = await readFile(new URL(`./fixtures/s3-events/${name}.json`, import.meta.url), 'utf8');
  const event = JSON.parse(text) as S3EventJson;
  for (const record of event.Records) applyChanges(record, changes);
  return event;
}

function applyChanges(record: S3EventJson['Records'][number], changes: RecordChanges): void {
  const object = record.s3.object;
  if (changes.bucket !== undefined) record.s3.bucket.name = changes.bucket;
  if (changes.rawKey !== undefined) object.key = changes.rawKey;
  if (changes.eventName !== undefined) record.eventName = changes.eventName;
  for (const field of ['size', 'versionId', 'sequencer'] as const) {
    const value = changes[field];
    if (value === null) delete object[field];
    else if (value !== undefined) object[field] = value;
  }
}

/** An event holding the records of all `events`, in order (S3 may batch them). */
export function combine(...events: S3EventJson[]): S3EventJson {
  return { Records: events.flatMap((e) => e.Records) };
}

/** A local store in a temp dir, closed and removed after the test. */
export async function tempStore(clock?: Clock): Promise<LocalStore> {
  const dataDir = await mkdtemp(join(tmpdir(), 'spotjobs-triggers-'));
  const store = await openLocalStore({ dataDir, ...(clock ? { clock } : {}) });
  onTestFinished(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return store;
}

/** The claims store the triggers use, on a LocalTable. */
export function triggerClaims(store: LocalStore, clock: Clock): ClaimStore {
  return new ClaimStore({ table: store.table('triggers'), clock, partition: TRIGGER_CLAIM_PARTITION });
}

/** One invocation: the Lambda request id and a signal that never aborts unless given. */
export function invocation(owner = 'lambda-request-1', signal: AbortSignal = new AbortController().signal) {
  return { owner, signal };
}

/**
 * Settles `work` while moving `clock` forward `stepMs` at a time, but only while something
 * sleeps on it: time stands still during real I/O (as it nearly does in production), so a
 * claim's TTL never lapses just because a request to an emulator took a few event-loop turns.
 */
export async function drive<T>(clock: ManualClock, work: Promise<T>, stepMs = 1000): Promise<T> {
  let settled = false;
  const done = work.finally(() => {
    settled = true;
  });
  done.catch(() => {});
  while (!settled) {
    await new Promise((resolve) => setImmediate(resolve));
    if (!settled && clock.pendingTimers > 0) await clock.advance(stepMs);
  }
  return done;
}

/** Settings of the cluster handlers in unit tests (af-users bucket of the fixtures). */
export function clusterSettings(changes: Partial<ClusterSettings> = {}): ClusterSettings {
  return {
    bucket: 'af-users-eu-west-2',
    homePrefix: 'home/',
    customizerPrefix: 'customizer/',
    stackPrefix: 'af',
    templateUrl: 'https://s3.amazonaws.com/templates-bucket/flight-solo.template',
    capabilities: ['CAPABILITY_IAM'],
    policy: afUserParameterPolicy,
    loginOutput: 'LoginAddress',
    createTimeoutMinutes: 30,
    deleteTimeoutMinutes: 20,
    onFailure: 'DELETE',
    roleArn: undefined,
    pollIntervalMs: 10_000,
    maxRequestBytes: 4096,
    legacyStackNames: false,
    ...changes,
  };
}

/** The cluster handlers on a local store, memory stacks and notifier, and a manual clock. */
export async function clusterWorld(
  options: {
    settings?: Partial<ClusterSettings>;
    script?: (spec: StackSpec) => MemoryStackScript;
    onNotify?: (notice: ClusterNotice) => void | Promise<void>;
  } = {},
) {
  const clock = new ManualClock();
  const store = await tempStore(clock);
  const settings = clusterSettings(options.settings);
  const stacks = new MemoryClusterStacks({ clock, ...(options.script ? { script: options.script } : {}) });
  const notifier = new MemoryNotifier(options.onNotify ? { onNotify: options.onNotify } : {});
  const ports: ClusterPorts = {
    requests: store.blobs({ namespace: 'users' }),
    customizer: store.blobs({ namespace: 'customizer' }),
    stacks,
    notifier,
    clock,
  };
  const admissionOptions = { claims: triggerClaims(store, clock), claimTtlMs: 60_000 };
  const create = new Admission(clusterCreateSteps(settings, ports), admissionOptions);
  const remove = new Admission(clusterDeleteSteps(settings, ports), admissionOptions);
  return {
    clock,
    settings,
    stacks,
    notifier,
    ports,
    create,
    remove,
    /** Lets `uid` have clusters (the customizer gate). */
    enable: (uid: string) => ports.customizer.put(`customizer/${uid}/configure.d/user.sh`, '#!/bin/sh\n'),
    /** What a user uploads: the request object, and the S3 event it causes. */
    async request(key: string, body: string, changes: RecordChanges = {}) {
      const info = await ports.requests.put(key, body);
      const fixture = key.endsWith('.cf-delete') ? 'cluster-delete' : 'cluster-create';
      return s3Event(fixture, {
        rawKey: encodeS3EventKey(key),
        size: info.size,
        sequencer: `00${(++sequence).toString(16).toUpperCase().padStart(16, '0')}`,
        ...changes,
      });
    },
    /** The text of an object in the user bucket, or undefined. */
    async read(key: string): Promise<string | undefined> {
      if (!(await ports.requests.head(key))) return undefined;
      const { body } = await ports.requests.get(key);
      return (await buffer(body)).toString('utf8');
    },
  };
}

let sequence = 0;

/** A key as S3 writes it into events: URL-encoded, `+` for spaces, `/` kept. */
export function encodeS3EventKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replaceAll('%20', '+'))
    .join('/');
}

/** One HTTP request an SDK client sent to the fake. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The body as form fields (query protocol: CloudFormation, SES). */
  readonly form: URLSearchParams;
}

export interface FakeResponse {
  readonly status: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

/**
 * An HTTP handler for SDK v3 clients that answers from `respond` and records each request,
 * so adapter tests run the real SDK (serialisation, error parsing) with no network.
 */
export function fakeAwsHttp(respond: (request: SeenRequest, index: number) => FakeResponse) {
  const requests: SeenRequest[] = [];
  const requestHandler = {
    async handle(request: { method: string; path: string; headers: Record<string, string>; body?: unknown }) {
      const raw = request.body;
      const body =
        typeof raw === 'string' ? raw : raw instanceof Uint8Array ? Buffer.from(raw).toString('utf8') : '';
      const seen: SeenRequest = {
        method: request.method,
        path: request.path,
        headers: request.headers,
        body,
        form: new URLSearchParams(body),
      };
      requests.push(seen);
      const answer = respond(seen, requests.length - 1);
      const xml = answer.body.trimStart().startsWith('<');
      return {
        response: {
          statusCode: answer.status,
          headers: {
            'content-type': xml ? 'text/xml' : 'application/json',
            'x-amzn-requestid': `req-${requests.length}`,
            ...answer.headers,
          },
          body: Readable.from([Buffer.from(answer.body)]),
        },
      };
    },
  };
  return {
    requests,
    /** Client options: the fake handler, test credentials, and no SDK retries (the adapters' own are tested). */
    clientConfig: {
      region: 'eu-west-2',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
      requestHandler: requestHandler as never,
    },
  };
}

/**
 * A loopback HTTP server answering as an AWS service from `respond`, for end-to-end tests of
 * the Lambda entries: their default SDK clients reach it through `AWS_ENDPOINT_URL_<SERVICE>`.
 */
export async function startFakeAwsServer(
  respond: (request: SeenRequest, index: number) => FakeResponse | Promise<FakeResponse>,
) {
  const requests: SeenRequest[] = [];
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const body = (await buffer(req)).toString('utf8');
    const seen: SeenRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
      body,
      form: new URLSearchParams(body),
    };
    requests.push(seen);
    const reply = await respond(seen, requests.length - 1);
    res.writeHead(reply.status, {
      'content-type': reply.body.trimStart().startsWith('<') ? 'text/xml' : 'application/json',
      'x-amzn-requestid': `req-${requests.length}`,
      ...reply.headers,
    });
    res.end(reply.body);
  };
  const server = createServer((req, res) => {
    answer(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: String(err) }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${port}`, requests };
}

/** Sets environment variables for the current test, restoring the old values after it. */
export function withEnv(values: Record<string, string>): void {
  const old = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]));
  Object.assign(process.env, values);
  onTestFinished(() => {
    for (const [k, v] of Object.entries(old)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}
