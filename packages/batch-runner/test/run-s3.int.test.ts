// The runner as a real process against the fauxqs S3 emulator, with Debian's awscli as the
// outside client: it uploads the inputs a user would, and reads what the job left in S3.
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeTar, writeZip } from './run-support/archives.ts';
import { awsCli, awsCliPath, headObject, listKeys, readObject, uploadFile } from './run-support/aws-cli.ts';
import { killTestProcesses, RUNNER_BIN, startRunner } from './run-support/runner-process.ts';

const s3 = () => inject('emulators').s3;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await killTestProcesses();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

beforeAll(() => {
  awsCliPath(); // fails the file clearly when awscli is missing
});

/** Buckets, a temp dir and the environment every run in a test shares. */
async function setUp() {
  const suffix = randomUUID().slice(0, 8);
  const inBucket = `in-${suffix}`;
  const outBucket = `out-${suffix}`;
  await awsCli(s3(), ['s3', 'mb', `s3://${inBucket}`]);
  await awsCli(s3(), ['s3', 'mb', `s3://${outBucket}`]);
  const dir = join(tmpdir(), `run-s3-${suffix}`);
  await mkdir(dir, { recursive: true });
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const env = (more: Record<string, string>): Record<string, string> => ({
    AWS_ENDPOINT_URL_S3: s3(),
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    SPOTJOBS_S3_FORCE_PATH_STYLE: 'true',
    SPOTJOBS_WORK_DIR: join(dir, 'work'),
    SPOTJOBS_OUTPUT_URI: `s3://${outBucket}/results/`,
    ...more,
  });
  const upload = async (name: string, key: string, body?: string | Buffer) => {
    const path = join(dir, name);
    if (body !== undefined) await writeFile(path, body);
    await uploadFile(s3(), path, inBucket, key);
  };
  const script = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    await chmod(path, 0o755);
    return path;
  };
  /** Starts the runner as Batch job `jobId`; its outputs land under `results/<jobId>/`. */
  const startBatchRun = (more: Record<string, string>, jobId: string = randomUUID()) => ({
    jobId,
    run: startRunner(env({ EXEC_TYPE: 'batch', AWS_BATCH_JOB_ID: jobId, ...more })),
  });
  /** The text of output `name` of run `runId`. */
  const result = (runId: string, name: string) => readObject(s3(), outBucket, `results/${runId}/${name}`);
  return { inBucket, outBucket, dir, env, upload, script, startBatchRun, result };
}

function timeLogField(text: string, field: string): string | undefined {
  return new RegExp(`^${field}: (.*)$`, 'm').exec(text)?.[1];
}

describe('a Batch run against S3', () => {
  it('stages the trigger and archives, runs the app, and uploads its outputs under the job id', async () => {
    const t = await setUp();
    await t.upload('run.sh', 'home/alice/run.sh', 'echo from the trigger\n');
    await writeTar(join(t.dir, 'deps.tar.gz'), [{ name: 'lib/libfoo.so.1', body: 'ELF-foo' }], true);
    await t.upload('deps.tar.gz', 'home/alice/deps.tar.gz');
    await writeZip(join(t.dir, 'data.zip'), [{ name: 'grid/mesh.dat', body: 'mesh-data' }], true);
    await t.upload('data.zip', 'home/alice/data.zip');
    const app = await t.script(
      'app.sh',
      `#!/bin/sh
set -e
echo "input=$1 output=$2"
cat "$1"
cp "$SPOTJOBS_INPUT_DIR/deps/lib/libfoo.so.1" "$2/copied-lib.txt"
mkdir -p "$2/sub/dir"
cat "$SPOTJOBS_INPUT_DIR/data/grid/mesh.dat" > "$2/sub/dir/nested.txt"
head -c 20971520 /dev/zero > "$2/big.bin"
echo "warning on stderr" >&2
`,
    );
    const { jobId, run } = t.startBatchRun({
      APP_BIN: app,
      APP_PARAMS: '["{input}", "{output}"]',
      SPOTJOBS_INPUT_URI: `s3://${t.inBucket}/home/alice/run.sh`,
      SPOTJOBS_EXTRA_INPUTS: `s3://${t.inBucket}/home/alice/deps.tar.gz s3://${t.inBucket}/home/alice/data.zip`,
    });
    expect((await run.exited).code).toBe(0);
    expect(run.stdout).toContain('echo from the trigger\n');
    expect(run.stderr).toContain('warning on stderr\n');
    const prefix = `results/${jobId}/`;
    expect(await listKeys(s3(), t.outBucket, prefix)).toEqual(
      ['app.log', 'big.bin', 'copied-lib.txt', 'sub/dir/nested.txt', 'time.log'].map((k) => prefix + k),
    );
    const big = await headObject(s3(), t.outBucket, `${prefix}big.bin`);
    expect(big).toMatchObject({ ContentLength: 20 * 1024 * 1024 });
    expect(await readObject(s3(), t.outBucket, `${prefix}sub/dir/nested.txt`)).toBe('mesh-data');
    expect(await readObject(s3(), t.outBucket, `${prefix}copied-lib.txt`)).toBe('ELF-foo');
    const appLog = await readObject(s3(), t.outBucket, `${prefix}app.log`);
    expect(appLog).toContain('echo from the trigger\n');
    expect(appLog).toContain('warning on stderr\n');
    const timeLog = await readObject(s3(), t.outBucket, `${prefix}time.log`);
    expect(timeLogField(timeLog, 'exit_code')).toBe('0');
    expect(timeLogField(timeLog, 'status')).toBe('completed');
    expect(timeLogField(timeLog, 'run')).toBe(`${jobId} attempt 1 (batch)`);
    expect(timeLogField(timeLog, 'node')).toMatch(/^0 of 1 \(single\) \S+ slots=\d+$/);
    expect(Number(timeLogField(timeLog, 'duration_seconds'))).toBeGreaterThan(0);
  }, 120_000);

  it('never mixes two jobs: each keeps its own outputs and time.log, exit codes passed on', async () => {
    const t = await setUp();
    await t.upload('in.txt', 'jobs/in.txt', 'x');
    const app = await t.script(
      'app.sh',
      '#!/bin/sh\necho "$SPOTJOBS_RUN_ID" > "$TMP_OUTPUT_DIR/result.txt"\nexit "$1"\n',
    );
    const jobs = ['0', '3'].map((code) => {
      const jobId = randomUUID();
      const started = t.startBatchRun(
        {
          APP_BIN: app,
          APP_PARAMS: code,
          SPOTJOBS_INPUT_URI: `s3://${t.inBucket}/jobs/in.txt`,
          SPOTJOBS_WORK_DIR: join(t.dir, `work-${jobId}`),
        },
        jobId,
      );
      return { ...started, code };
    });
    expect((await Promise.all(jobs.map((j) => j.run.exited))).map((e) => e.code)).toEqual([0, 3]);
    for (const { jobId, code } of jobs) {
      expect(await t.result(jobId, 'result.txt')).toBe(`${jobId}\n`);
      expect(timeLogField(await t.result(jobId, 'time.log'), 'exit_code')).toBe(code);
    }
  }, 120_000);

  it("keeps the run's own files out of the outputs when TMP_OUTPUT_DIR is a shared folder (SCAR's /tmp)", async () => {
    const t = await setUp();
    await t.upload('in.txt', 'jobs/in.txt', 'input bytes');
    const shared = join(t.dir, 'shared-tmp');
    const { jobId, run } = t.startBatchRun({
      APP_BIN: '/bin/sh',
      APP_PARAMS: '["-c", "echo out > $TMP_OUTPUT_DIR/result.txt"]',
      SPOTJOBS_INPUT_URI: `s3://${t.inBucket}/jobs/in.txt`,
      TMP_OUTPUT_DIR: shared,
      SPOTJOBS_WORK_DIR: shared, // the run dir (inputs, hostfile) sits inside the output folder
    });
    expect((await run.exited).code).toBe(0);
    expect(await listKeys(s3(), t.outBucket, `results/${jobId}/`)).toEqual(
      ['app.log', 'result.txt', 'time.log'].map((k) => `results/${jobId}/${k}`),
    );
  }, 60_000);

  it("runs SCAR's Lambda path: EVENT's uploaded script through /bin/sh, outputs under the request id", async () => {
    const t = await setUp();
    await t.upload(
      'helper.sh',
      'input/run helper.sh',
      '#!/bin/sh\necho "ran as $0" > "$TMP_OUTPUT_DIR/out.txt"\n',
    );
    const event = {
      Records: [{ s3: { bucket: { name: t.inBucket }, object: { key: 'input/run+helper.sh' } } }],
    };
    const requestId = randomUUID();
    const run = startRunner(
      t.env({
        EXEC_TYPE: 'lambda',
        AWS_LAMBDA_REQUEST_ID: requestId,
        EVENT: JSON.stringify(event),
        APP_BIN: '/bin/sh',
        APP_PARAMS: '{input}',
      }),
    );
    expect((await run.exited).code).toBe(0);
    const text = await t.result(requestId, 'out.txt');
    expect(text).toMatch(/^ran as .*\/input\/run helper\.sh\n$/);
    expect(timeLogField(await t.result(requestId, 'time.log'), 'node')).toBe('0 of 1 (lambda)');
  }, 120_000);
});

describe('refused runs', () => {
  it("refuses another user's prefix (exit 65): the app never runs, time.log says why", async () => {
    const t = await setUp();
    await t.upload('run.sh', 'home/alice/run.sh', 'x');
    await t.upload('bob.tar', 'home/bob/private.tar', 'y');
    const app = await t.script('app.sh', '#!/bin/sh\ntouch "$TMP_OUTPUT_DIR/app-ran"\n');
    const { jobId, run } = t.startBatchRun({
      APP_BIN: app,
      SPOTJOBS_INPUT_URI: `s3://${t.inBucket}/home/alice/run.sh`,
      SPOTJOBS_EXTRA_INPUTS: `s3://${t.inBucket}/home/bob/private.tar`,
    });
    expect((await run.exited).code).toBe(65);
    expect(await listKeys(s3(), t.outBucket, `results/${jobId}/`)).toEqual([`results/${jobId}/time.log`]);
    const status = timeLogField(await t.result(jobId, 'time.log'), 'status');
    expect(status).toBe(
      `failed: input s3://${t.inBucket}/home/bob/private.tar refused: outside this job's input prefixes (s3://${t.inBucket}/home/alice/)`,
    );
  }, 120_000);

  it('refuses an oversized input (exit 65)', async () => {
    const t = await setUp();
    await t.upload('big.dat', 'jobs/big.dat', Buffer.alloc(4096));
    const { run } = t.startBatchRun({
      APP_BIN: '/bin/true',
      SPOTJOBS_INPUT_URI: `s3://${t.inBucket}/jobs/big.dat`,
      SPOTJOBS_MAX_INPUT_BYTES: '1024',
    });
    expect((await run.exited).code).toBe(65);
    expect(run.logs()).toContainEqual(
      expect.objectContaining({
        code: 'INPUT_REFUSED',
        msg: `input s3://${t.inBucket}/jobs/big.dat refused: is 4096 bytes, over the limit of 1024`,
      }),
    );
  }, 120_000);

  it.each([
    ['a .. segment', 'jobs/../other/x', /\.\. segment/],
    ['an encoded slash', 'jobs/..%2Fother%2Fx', /percent-encoded slash/],
  ])(
    'refuses %s in an input key before touching S3 (exit 78)',
    async (_what, key, reason) => {
      const t = await setUp();
      const { run } = t.startBatchRun({
        APP_BIN: '/bin/true',
        SPOTJOBS_INPUT_URI: `s3://${t.inBucket}/${key}`,
      });
      expect((await run.exited).code).toBe(78);
      expect(run.stderr).toMatch(reason);
      expect(run.stderr).toMatch(
        /^spotjobs-batch-runner: invalid batch-runner configuration:\n {2}SPOTJOBS_INPUT_URI: /,
      );
    },
    60_000,
  );

  it('reports an APP_BIN that does not exist as 127, with time.log uploaded', async () => {
    const t = await setUp();
    const { jobId, run } = t.startBatchRun({ APP_BIN: '/nonexistent/simest' });
    expect((await run.exited).code).toBe(127);
    const timeLog = await t.result(jobId, 'time.log');
    expect(timeLogField(timeLog, 'status')).toBe('failed: cannot run /nonexistent/simest: not found');
  }, 60_000);

  it('turns a failed upload of a good run into exit 74', async () => {
    const t = await setUp();
    const { run } = t.startBatchRun({
      APP_BIN: '/bin/true',
      SPOTJOBS_OUTPUT_URI: `s3://no-such-bucket-${randomUUID().slice(0, 8)}/results/`,
    });
    expect((await run.exited).code).toBe(74);
    expect(run.logs()).toContainEqual(expect.objectContaining({ level: 50, msg: 'outputs not uploaded' }));
  }, 60_000);
});

describe('SIGTERM', () => {
  it('forwards it to the app, uploads partial outputs and time.log, and exits with the configured code', async () => {
    const t = await setUp();
    const app = await t.script(
      'app.sh',
      `#!/bin/sh
trap 'echo "partial at step $i" > "$TMP_OUTPUT_DIR/partial.txt"; exit 0' TERM
i=0
echo started
while true; do i=$((i+1)); sleep 0.1; done
`,
    );
    const { jobId, run } = t.startBatchRun({ APP_BIN: app, SPOTJOBS_TERM_EXIT_CODE: '99' });
    await run.waitForLog('starting the app');
    while (!run.stdout.includes('started')) await new Promise((resolve) => setTimeout(resolve, 20));
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(99);
    expect(await t.result(jobId, 'partial.txt')).toMatch(/^partial at step \d+\n$/);
    const timeLog = await t.result(jobId, 'time.log');
    expect(timeLogField(timeLog, 'exit_code')).toBe('99');
    expect(timeLogField(timeLog, 'app_exit_code')).toBe('0');
    expect(timeLogField(timeLog, 'status')).toBe('terminated by SIGTERM (app exit 0)');
  }, 60_000);

  it('kills an app that ignores SIGTERM after the grace period, and still uploads', async () => {
    const t = await setUp();
    const app = await t.script(
      'app.sh',
      "#!/bin/sh\ntrap '' TERM\necho stubborn\nwhile true; do sleep 0.1; done\n",
    );
    const { jobId, run } = t.startBatchRun({ APP_BIN: app, SPOTJOBS_TERM_GRACE_SECONDS: '1' });
    while (!run.stdout.includes('stubborn')) await new Promise((resolve) => setTimeout(resolve, 20));
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(143);
    const timeLog = await t.result(jobId, 'time.log');
    expect(timeLogField(timeLog, 'signal')).toBe('SIGKILL');
    expect(timeLogField(timeLog, 'app_exit_code')).toBe('137');
  }, 60_000);
});

it('runs through the bin/spotjobs-batch-runner launcher reached by a symlink', async () => {
  const t = await setUp();
  const link = join(t.dir, 'spotjobs-batch-runner');
  await symlink(RUNNER_BIN, link);
  const jobId = randomUUID();
  const run = startRunner(
    t.env({
      SPOTJOBS_NODE: process.execPath,
      AWS_BATCH_JOB_ID: jobId,
      APP_BIN: '/bin/sh',
      APP_PARAMS: '["-c", "exit 7"]',
    }),
    { command: link, args: [] },
  );
  expect((await run.exited).code).toBe(7);
  expect(timeLogField(await t.result(jobId, 'time.log'), 'exit_code')).toBe('7');
}, 60_000);
