// `pnpm package` for real, into a temporary directory: the same bytes twice; each Lambda archive
// unzipped and imported by a fresh Node (its handlers exported), the compile API's handler
// answering a recorded API Gateway event against the emulators; the host package extracted as
// a host would, its programs started from there on the bundled Node: a bad setting refused
// (exit 78), install.sh installing units that point at the extracted launchers, and the API,
// the daemon and the CLI serving a build end to end (host-process executor, Portage stand-in).
import { execFile } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ensureDynamoTable, ensureS3Bucket, ensureSqsQueue } from '@spotjobs/core/aws';
import { awsTestClientConfig, type JsonLogProcess, startJsonLogProgram } from '@spotjobs/core/testing';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished, vi } from 'vitest';
import { type PackageManifest, packageArtifacts } from '../src/package-artifacts.ts';
import { LAMBDA_TARGETS } from '../src/package-lambdas.ts';
import { workerPackageName } from '../src/package-worker-tarball.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const standinEmerge = join(repoRoot, 'packages/compile-worker/builder-image/standin/emerge');
const recordedEvent = join(
  repoRoot,
  'packages/compile-worker/test/fixtures/api-gateway/compat-get-anonymous.json',
);
/** A PATH without the project's Node: the extracted programs must bring their own. */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PACKAGE_TIMEOUT = 300_000;

let work: string;
let outDir: string;
let manifest: PackageManifest;
/** Where the host package was extracted: `<work>/opt/spotjobs`, as /opt/spotjobs on a host. */
let installed: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'spotjobs-package-int-'));
  outDir = join(work, 'dist');
  manifest = await packageArtifacts(
    { repoRoot, outDir, parts: ['lambda', 'worker'] },
    AbortSignal.timeout(PACKAGE_TIMEOUT),
  );
  await mkdir(join(work, 'opt'));
  await run('tar', ['-xzf', join(outDir, workerPackageName(manifest.version)), '-C', join(work, 'opt')]);
  installed = join(work, 'opt', 'spotjobs');
}, PACKAGE_TIMEOUT);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Extracts a zip with Python's zipfile (an independent reader; no `unzip` needed). */
async function unzip(file: string, into: string): Promise<void> {
  await run('python3', ['-m', 'zipfile', '-e', file, into]);
}

/** Runs a script in a fresh Node with the given environment; resolves with its stdout. */
async function nodeScript(script: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: SYSTEM_PATH, ...env },
    timeout: 60_000,
  });
  return stdout;
}

/** Starts an extracted program; stopped (SIGTERM, then SIGKILL) when the test ends. */
function start(file: string, args: readonly string[], env: Record<string, string>): JsonLogProcess {
  return startJsonLogProgram(file, args, env, { path: SYSTEM_PATH, stopGraceMs: 20_000 });
}

describe('pnpm package', () => {
  it(
    'builds byte-identical artifacts a second time, into another directory',
    async () => {
      const again = await packageArtifacts(
        { repoRoot, outDir: join(work, 'dist-again'), parts: ['lambda', 'worker'] },
        AbortSignal.timeout(PACKAGE_TIMEOUT),
      );

      expect(again.artifacts).toEqual(manifest.artifacts);
      expect(JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8'))).toEqual(manifest);
      expect(manifest.artifacts.map((a) => a.path)).toEqual([
        'lambda/compile-api.zip',
        'lambda/job-trigger.zip',
        'lambda/cluster-requests.zip',
        workerPackageName(manifest.version),
      ]);
    },
    PACKAGE_TIMEOUT,
  );
});

describe('deploy/src/package-main.ts (pnpm package)', () => {
  const main = join(repoRoot, 'deploy/src/package-main.ts');

  it(
    'prints each artifact with its size and sha256, as the manifest records them',
    async () => {
      const out = join(work, 'dist-main');

      const { stdout } = await run(process.execPath, [main, '--only', 'lambda', '--out', out], {
        timeout: PACKAGE_TIMEOUT,
      });

      const written = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as PackageManifest;
      expect(written.artifacts.map((a) => a.path)).toEqual(LAMBDA_TARGETS.map((t) => `lambda/${t.name}.zip`));
      for (const artifact of written.artifacts) {
        const mib = (artifact.bytes / 1024 / 1024).toFixed(2);
        expect(stdout).toMatch(new RegExp(`^${artifact.path} +${mib} MiB  sha256:${artifact.sha256}$`, 'm'));
      }
      // The same sources as the first build: the same archives.
      expect(written.artifacts).toEqual(manifest.artifacts.slice(0, LAMBDA_TARGETS.length));
    },
    PACKAGE_TIMEOUT,
  );

  it('refuses an unknown part with exit 2 and the usage', async () => {
    const failure = await run(process.execPath, [
      main,
      '--only',
      'lambda,bogus',
      '--out',
      join(work, 'never'),
    ]).catch((err: { code: number; stderr: string }) => err);

    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toMatch(/unknown part\(s\): bogus\nusage: /);
  });
});

describe('the Lambda archives', () => {
  it.each(LAMBDA_TARGETS.map((t) => [t.name, t] as const))(
    '%s.zip holds index.mjs exporting its handlers, loadable by a fresh Node',
    async (name, target) => {
      const dir = join(work, `lambda-${name}`);
      await unzip(join(outDir, 'lambda', `${name}.zip`), dir);

      expect((await readdir(dir)).sort()).toEqual(['index.mjs', 'index.mjs.map']);
      const stdout = await nodeScript(
        'const m = await import(process.env.MODULE_URL);' +
          'console.log(JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v]))));',
        { MODULE_URL: pathToFileURL(join(dir, 'index.mjs')).href },
      );
      expect(JSON.parse(stdout)).toEqual(Object.fromEntries(target.handlers.map((h) => [h, 'function'])));
    },
    60_000,
  );

  it("compile-api.zip's source map points stack traces at the repository's files (--enable-source-maps)", async () => {
    const dir = join(work, 'lambda-source-map');
    await unzip(join(outDir, 'lambda', 'compile-api.zip'), dir);

    // Without SPOTJOBS_COMPILE_BACKEND=aws the handler's composition throws, from lambda-entry.ts.
    const stdout = await nodeScript(
      'const { handler } = await import(process.env.MODULE_URL);' +
        'try { await handler({ httpMethod: "GET", path: "/", headers: {}, requestContext: {} }, {}); }' +
        'catch (err) { console.log(err.stack); }',
      { MODULE_URL: pathToFileURL(join(dir, 'index.mjs')).href, NODE_OPTIONS: '--enable-source-maps' },
    );

    expect(stdout).toMatch(/the Lambda needs SPOTJOBS_COMPILE_BACKEND=aws/);
    expect(stdout).toMatch(/packages\/compile-worker\/src\/aws\/lambda-entry\.ts:\d+:\d+/);
  }, 60_000);

  it('compile-api.zip answers a recorded API Gateway GET /package against SQS, S3 and DynamoDB', async () => {
    const endpoints = inject('emulators');
    const sqs = new SQSClient({ ...awsTestClientConfig, endpoint: endpoints.sqs });
    const s3 = new S3Client({ ...awsTestClientConfig, endpoint: endpoints.s3 });
    const dynamodb = new DynamoDBClient({ ...awsTestClientConfig, endpoint: endpoints.dynamodb });
    onTestFinished(() => {
      sqs.destroy();
      s3.destroy();
      dynamodb.destroy();
    });
    const name = `package-${Math.random().toString(36).slice(2, 10)}`;
    const { queueUrl, deadLetterQueueUrl } = await ensureSqsQueue(sqs, name);
    await ensureDynamoTable(dynamodb, name);
    await ensureS3Bucket(s3, name);
    const apiKey = `package-test-key-${name}`;
    const dir = join(work, 'lambda-invoke');
    await unzip(join(outDir, 'lambda', 'compile-api.zip'), dir);
    // The function's environment as the template gives it, plus the emulators' endpoints.
    const env = {
      SPOTJOBS_COMPILE_BACKEND: 'aws',
      SPOTJOBS_COMPILE_QUEUE_URL: queueUrl,
      SPOTJOBS_COMPILE_DLQ_URL: deadLetterQueueUrl,
      SPOTJOBS_COMPILE_TABLE: name,
      SPOTJOBS_COMPILE_BUCKET: name,
      SPOTJOBS_COMPILE_S3_FORCE_PATH_STYLE: 'true',
      SPOTJOBS_COMPILE_IMAGE_DIGEST: `sha256:${'d'.repeat(64)}`,
      SPOTJOBS_COMPILE_API_KEYS: apiKey,
      SPOTJOBS_COMPILE_LOG_LEVEL: 'silent',
      AWS_REGION: awsTestClientConfig.region,
      AWS_ACCESS_KEY_ID: awsTestClientConfig.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: awsTestClientConfig.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_SQS: endpoints.sqs,
      AWS_ENDPOINT_URL_S3: endpoints.s3,
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    };
    const event = JSON.parse(await readFile(recordedEvent, 'utf8')) as { headers: Record<string, string> };
    const invoke = async (e: unknown) =>
      JSON.parse(
        await nodeScript(
          'const { handler } = await import(process.env.MODULE_URL);' +
            'const result = await handler(JSON.parse(process.env.EVENT), { getRemainingTimeInMillis: () => 10000 });' +
            'console.log(JSON.stringify(result));',
          { ...env, MODULE_URL: pathToFileURL(join(dir, 'index.mjs')).href, EVENT: JSON.stringify(e) },
        ),
      ) as { statusCode: number; body: string };

    const anonymous = await invoke(event);
    const withKey = await invoke({
      ...event,
      headers: { ...event.headers, 'x-api-key': apiKey },
      multiValueHeaders: null,
    });

    expect(anonymous.statusCode).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ status: 'FAILED' });
    expect(withKey).toMatchObject({ statusCode: 200, body: '{"status":"WAIT"}' });
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(received.Messages).toHaveLength(1);
    expect(JSON.parse(received.Messages![0]!.Body!)).toMatchObject({
      packageExpression: 'media-libs/imlib2-1.4.10',
    });
  }, 120_000);
});

describe('the host package, extracted', () => {
  it('has the contract layout: launchers and the Node 24 runtime executable, systemd/, VERSION', async () => {
    for (const program of [
      'node',
      'spotjobs-compile-worker',
      'spotjobs-compile-api',
      'spotjobs-compile',
      'spotjobs-dlq',
    ])
      await access(join(installed, 'bin', program), constants.X_OK);
    expect((await readdir(join(installed, 'lib'))).sort()).toEqual([
      'compile-api.mjs',
      'compile-api.mjs.map',
      'compile-cli.mjs',
      'compile-cli.mjs.map',
      'compile-worker.mjs',
      'compile-worker.mjs.map',
      'dlq.mjs',
      'dlq.mjs.map',
    ]);
    expect(await readFile(join(installed, 'VERSION'), 'utf8')).toBe(`${manifest.version}\n`);
    const { stdout } = await run(join(installed, 'bin/node'), ['--version'], { env: { PATH: SYSTEM_PATH } });
    expect(stdout.trim()).toBe(process.version);
  });

  it('the dead-letter tool runs from the package on an embedded store', async () => {
    const dataDir = join(work, 'dlq-store');
    await mkdir(dataDir);
    const { stderr } = await run(
      join(installed, 'bin/spotjobs-dlq'),
      ['list', '--data-dir', dataDir, '--queue', 'compile'],
      {
        env: { PATH: SYSTEM_PATH },
      },
    );
    expect(stderr).toContain('0 dead-lettered, 0 matching');
  });

  it('the daemon starts on the bundled Node and refuses a bad setting with exit 78, naming it', async () => {
    const worker = start(join(installed, 'bin/spotjobs-compile-worker'), [], {
      SPOTJOBS_COMPILE_CONCURRENCY: 'many',
      SPOTJOBS_COMPILE_BACKEND: 'aws',
    });

    expect(await worker.exited).toEqual([78, null]);
    expect(worker.stderr()).toMatch(/invalid compile-worker configuration/);
    expect(worker.stderr()).toMatch(/SPOTJOBS_COMPILE_CONCURRENCY/);
    expect(worker.stderr()).toMatch(/SPOTJOBS_COMPILE_QUEUE_URL/);
  }, 60_000);

  it("install.sh from the package installs units whose ExecStart is the package's launchers", async () => {
    const root = join(work, 'root');
    await mkdir(root);

    await run(join(installed, 'systemd/install.sh'), ['--root', root, '--prefix', installed], {
      env: { PATH: SYSTEM_PATH },
    });

    for (const [unit, program] of [
      ['spotjobs-compile-worker.service', 'spotjobs-compile-worker'],
      ['spotjobs-compile-api.service', 'spotjobs-compile-api'],
    ] as const) {
      const text = await readFile(join(root, 'etc/systemd/system', unit), 'utf8');
      const execStart = /^ExecStart=(.*)$/m.exec(text)?.[1];
      expect(execStart).toBe(join(installed, 'bin', program));
      await access(execStart!, constants.X_OK);
    }
    await access(join(root, 'etc/spotjobs/compile.env'), constants.R_OK);
    await access(join(root, 'usr/lib/systemd/system-sleep/spotjobs'), constants.X_OK);
  }, 60_000);

  /** How each executor runs: host processes with the Portage stand-in, or the test builder image. */
  const executors = {
    process: async () => ({ SPOTJOBS_COMPILE_EMERGE: standinEmerge }),
    // Dockerode, docker-modem and ssh2 (native add-ons left out) bundled: the riskiest part.
    container: async () => {
      await run('bash', [join(repoRoot, 'scripts/ensure-docker.sh')], { timeout: 300_000 });
      const { stdout } = await run(
        'bash',
        [join(repoRoot, 'packages/compile-worker/builder-image/build-test-image.sh')],
        {
          timeout: 120_000,
        },
      );
      return { SPOTJOBS_COMPILE_BUILDER_IMAGE: stdout.trim() };
    },
  } as const;

  it.each(Object.keys(executors) as (keyof typeof executors)[])(
    'the API, the daemon (%s executor) and the CLI, all from the package, serve a build end to end',
    async (executor) => {
      const data = join(work, `farm-${executor}`);
      await mkdir(join(data, 'downloads'), { recursive: true });
      const apiKey = `package-farm-key-${Math.random().toString(36).slice(2, 10)}`;
      const farm = {
        SPOTJOBS_COMPILE_BACKEND: 'local',
        SPOTJOBS_COMPILE_DATA_DIR: data,
        SPOTJOBS_COMPILE_CACHE_DIR: join(data, 'binpkgs'),
        SPOTJOBS_COMPILE_WORK_DIR: join(data, 'builds'),
        SPOTJOBS_SLEEP_SOCKET: join(data, 'sleep.sock'),
        SPOTJOBS_COMPILE_HEALTH_PORT: '0',
        SPOTJOBS_COMPILE_PORT: '0',
        SPOTJOBS_COMPILE_API_KEYS: apiKey,
        SPOTJOBS_COMPILE_EXECUTOR: executor,
        ...(await executors[executor]()),
      };
      const api = start(join(installed, 'bin/spotjobs-compile-api'), [], farm);
      const worker = start(join(installed, 'bin/spotjobs-compile-worker'), [], farm);
      await vi.waitFor(
        () => {
          expect(api.child.exitCode, api.stderr()).toBeNull();
          expect(worker.child.exitCode, worker.stderr()).toBeNull();
          expect(api.lines.some((l) => l.msg === 'spotjobs-compile-api ready')).toBe(true);
          expect(worker.lines.some((l) => l.msg === 'spotjobs-compile-worker running')).toBe(true);
        },
        { timeout: 60_000, interval: 100 },
      );
      expect(worker.lines.find((l) => l.msg === 'spotjobs-compile-worker running')).toMatchObject({
        executor,
      });
      const url = String(api.lines.find((l) => l.msg === 'spotjobs-compile-api ready')?.url);

      const cli = start(
        join(installed, 'bin/spotjobs-compile'),
        [
          'request',
          'app-misc/hello-2.12',
          '--use',
          'nls -test',
          '--output',
          join(data, 'downloads'),
          '--poll-interval',
          '0.2',
        ],
        { SPOTJOBS_COMPILE_URL: url, SPOTJOBS_COMPILE_API_KEY: apiKey },
      );
      const [code] = await cli.exited;

      // stdout: the downloaded file; stderr: the progress, ending with the checksum check.
      const downloaded = join(data, 'downloads', 'hello-2.12.gpkg.tar');
      expect(code, cli.stderr()).toBe(0);
      expect(cli.lines.map((l) => l.msg)).toEqual([downloaded]);
      expect(cli.stderr()).toMatch(/sha256 [0-9a-f]{64} verified/);
      expect(await readdir(join(data, 'downloads'))).toEqual(['hello-2.12.gpkg.tar']);
      expect(worker.lines.some((l) => /build ready/.test(String(l.msg)))).toBe(true);

      worker.child.kill('SIGTERM');
      api.child.kill('SIGTERM');
      expect(await worker.exited).toEqual([0, null]);
      expect(worker.lines.at(-1)).toMatchObject({ msg: 'spotjobs-compile-worker stopped' });
    },
    420_000,
  );
});
