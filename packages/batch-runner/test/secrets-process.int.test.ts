// Secrets end to end, through the real SDK clients: no emulator of Secrets Manager or SSM
// exists, so a loopback stand-in answers their two read calls (AWS JSON 1.1, as the services
// do) and the runner reaches it through AWS_ENDPOINT_URL_SSM / _SECRETS_MANAGER. The app gets
// the values in its environment; they never show in the logs, app.log, time.log or S3.
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { awsCli, listKeys, readObject } from './run-support/aws-cli.ts';
import { killTestProcesses, startRunner } from './run-support/runner-process.ts';

const ZIP_PASSWORD = `zip-${randomUUID()}`;
const DB_PASSWORD = `db-${randomUUID()}`;
const RENDEZVOUS_SECRET = `mnp-${randomUUID()}`;

interface SecretsStandIn {
  readonly endpoint: string;
  readonly calls: Array<{ target: string; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

async function startSecretsStandIn(): Promise<SecretsStandIn> {
  const calls: SecretsStandIn['calls'] = [];
  // The two read calls, answered as the services do (AWS JSON 1.1, errors as `__type`).
  const answerFor = (target: string, body: Record<string, unknown>): [number, object] => {
    if (target === 'AmazonSSM.GetParameter' && body.Name === '/jobs/zip')
      return [
        200,
        { Parameter: { Name: '/jobs/zip', Type: 'SecureString', Value: ZIP_PASSWORD, Version: 1 } },
      ];
    if (target === 'secretsmanager.GetSecretValue' && body.SecretId === 'prod/db')
      return [200, { Name: 'prod/db', SecretString: JSON.stringify({ user: 'app', password: DB_PASSWORD }) }];
    if (target === 'secretsmanager.GetSecretValue' && body.SecretId === 'mnp/shared')
      return [200, { Name: 'mnp/shared', SecretString: RENDEZVOUS_SECRET }];
    if (target === 'AmazonSSM.GetParameter')
      return [400, { __type: 'ParameterNotFound', message: `Parameter ${String(body.Name)} not found.` }];
    return [
      400,
      { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." },
    ];
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
      calls.push({ target, body });
      const [status, json] = answerFor(target, body);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(json));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { endpoint, calls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await killTestProcesses();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setUp() {
  const standIn = await startSecretsStandIn();
  cleanups.push(() => standIn.close());
  const suffix = randomUUID().slice(0, 8);
  const outBucket = `secrets-out-${suffix}`;
  const s3 = inject('emulators').s3;
  await awsCli(s3, ['s3', 'mb', `s3://${outBucket}`]);
  const dir = join(tmpdir(), `secrets-${suffix}`);
  await mkdir(dir, { recursive: true });
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const env = {
    AWS_ENDPOINT_URL_S3: s3,
    AWS_ENDPOINT_URL_SSM: standIn.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: standIn.endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    SPOTJOBS_S3_FORCE_PATH_STYLE: 'true',
    SPOTJOBS_WORK_DIR: join(dir, 'work'),
    SPOTJOBS_OUTPUT_URI: `s3://${outBucket}/out/`,
  };
  return { standIn, s3, outBucket, dir, env };
}

describe('secrets from Secrets Manager and SSM', () => {
  it('reach the app through its environment only, and are redacted from everything the runner writes', async () => {
    const t = await setUp();
    const app = join(t.dir, 'app.sh');
    await writeFile(
      app,
      `#!/bin/sh
echo "zip password is $APP_SECRET_ZIP"
echo "db password is $APP_SECRET_DB" >&2
printf '%s' "$APP_SECRET_ZIP" | sha256sum | cut -d' ' -f1 > "$TMP_OUTPUT_DIR/zip.sha256"
printf '%s' "$APP_SECRET_DB" | sha256sum | cut -d' ' -f1 > "$TMP_OUTPUT_DIR/db.sha256"
tr '\\0' '\\n' < /proc/$$/cmdline > "$TMP_OUTPUT_DIR/cmdline.txt"
`,
    );
    await chmod(app, 0o755);
    const jobId = randomUUID();
    const run = startRunner({
      ...t.env,
      EXEC_TYPE: 'batch',
      AWS_BATCH_JOB_ID: jobId,
      APP_BIN: app,
      APP_SECRET_ZIP: 'ssm:/jobs/zip',
      APP_SECRET_DB: 'secretsmanager:prod/db#password',
    });
    expect((await run.exited).code).toBe(0);
    // The app had the values (their hashes prove it without writing them anywhere).
    const sha = (text: string) => `${createHash('sha256').update(text).digest('hex')}\n`;
    const prefix = `out/${jobId}/`;
    expect(await readObject(t.s3, t.outBucket, `${prefix}zip.sha256`)).toBe(sha(ZIP_PASSWORD));
    expect(await readObject(t.s3, t.outBucket, `${prefix}db.sha256`)).toBe(sha(DB_PASSWORD));
    // ...never on its command line.
    expect(await readObject(t.s3, t.outBucket, `${prefix}cmdline.txt`)).not.toMatch(/zip-|db-/);
    // The streamed output and app.log show *** where the app printed them.
    expect(run.stdout).toBe('zip password is ***\n');
    expect(run.stderr).toContain('db password is ***\n');
    const everything = [run.stdout, run.stderr];
    for (const key of await listKeys(t.s3, t.outBucket, prefix))
      everything.push(await readObject(t.s3, t.outBucket, key));
    for (const text of everything) {
      expect(text).not.toContain(ZIP_PASSWORD);
      expect(text).not.toContain(DB_PASSWORD);
    }
    expect(await readObject(t.s3, t.outBucket, `${prefix}app.log`)).toContain('zip password is ***\n');
    // SSM was asked to decrypt; each service was asked once.
    expect(t.standIn.calls).toEqual(
      expect.arrayContaining([
        { target: 'AmazonSSM.GetParameter', body: { Name: '/jobs/zip', WithDecryption: true } },
        { target: 'secretsmanager.GetSecretValue', body: { SecretId: 'prod/db' } },
      ]),
    );
    expect(t.standIn.calls).toHaveLength(2);
    // Nothing of it stays on the node either: the run dir went after the upload.
    expect(await readdir(join(t.dir, 'work'))).toEqual([]);
  }, 60_000);

  it('stops with exit 78 naming the variable when a reference does not resolve', async () => {
    const t = await setUp();
    const run = startRunner({
      ...t.env,
      EXEC_TYPE: 'batch',
      AWS_BATCH_JOB_ID: randomUUID(),
      APP_BIN: '/bin/true',
      APP_SECRET_GONE: 'ssm:/jobs/gone',
    });
    expect((await run.exited).code).toBe(78);
    expect(run.logs()).toContainEqual(
      expect.objectContaining({
        code: 'SECRET_RESOLUTION',
        msg: expect.stringMatching(
          /^cannot start the run: APP_SECRET_GONE: cannot resolve ssm:\/jobs\/gone: ParameterNotFound/,
        ),
      }),
    );
  }, 60_000);

  it('keys the rendezvous with a shared secret: a node without it cannot join', async () => {
    const t = await setUp();
    const { startMultiNodeJob } = await import('./run-support/multinode-job.ts');
    const { SPOTJOBS_WORK_DIR: _ownWorkDirPerNode, ...shared } = t.env;
    const job = await startMultiNodeJob({
      nodes: 2,
      env: {
        ...shared,
        SPOTJOBS_OUTPUT_URI: '',
        SPOTJOBS_RENDEZVOUS_SECRET: 'secretsmanager:mnp/shared',
        SPOTJOBS_RENDEZVOUS_TIMEOUT_SECONDS: '3',
      },
      never: [1],
    });
    cleanups.push(() => killTestProcesses(job.mark).then(() => job.cleanup()));
    const main = job.nodes[0]!;
    await main.waitForLog('rendezvous open');
    // A node of the same job id and attempt, but without the secret, is refused.
    const stray = startRunner({
      ...t.env,
      SPOTJOBS_OUTPUT_URI: '',
      EXEC_TYPE: 'batch',
      AWS_BATCH_JOB_ID: `${job.jobId}#1`,
      AWS_BATCH_JOB_NUM_NODES: '2',
      AWS_BATCH_JOB_NODE_INDEX: '1',
      AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: '127.0.0.1',
      SPOTJOBS_NODE_ADDRESS: '127.0.0.2',
      SPOTJOBS_RENDEZVOUS_PORT: String(job.port),
      SPOTJOBS_WORK_DIR: join(t.dir, 'stray'),
      APP_BIN: '/bin/true',
    });
    expect((await stray.exited).code).toBe(69);
    expect(stray.logs()).toContainEqual(
      expect.objectContaining({ msg: expect.stringMatching(/wrong rendezvous token/) }),
    );
    expect((await main.exited).code).toBe(69);
    expect(main.stderr).not.toContain(RENDEZVOUS_SECRET);
    expect(
      await readFile(join(job.root, 'node-0', `spotjobs-${job.jobId}`, 'output', 'time.log'), 'utf8'),
    ).toMatch(/did not join/);
  }, 60_000);
});
