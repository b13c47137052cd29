import { randomUUID } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordingLogger } from '@spotjobs/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { InputRefusedError } from '../src/run/runner-errors.ts';
import { type InputPlan, stageInputs } from '../src/staging/stage-inputs.ts';
import { memoryBuckets } from './run-support/memory-blobs.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
function inputDir(): string {
  const dir = join(tmpdir(), `staging-unit-${randomUUID()}`);
  dirs.push(dir);
  return dir;
}

function plan(overrides: Partial<InputPlan>): InputPlan {
  return {
    trigger: { location: { bucket: 'jobs-in', key: 'home/alice/run.sh' } },
    extras: [],
    allowedPrefixes: [{ bucket: 'jobs-in', key: 'home/alice/' }],
    maxObjectBytes: 1024,
    maxExtractedBytes: 4096,
    maxArchiveEntries: 10,
    ...overrides,
  };
}

async function refusal(promise: Promise<unknown>): Promise<InputRefusedError> {
  const err = await promise.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InputRefusedError);
  return err as InputRefusedError;
}

describe('stageInputs (in-memory buckets)', () => {
  it('copies the trigger and plain extras into the input folder', async () => {
    const s3 = memoryBuckets();
    await s3.bucket('jobs-in').put('home/alice/run.sh', 'echo hi\n');
    await s3.bucket('jobs-in').put('home/alice/params/p.json', '{"n":1}');
    const dir = inputDir();
    const staged = await stageInputs(
      plan({ extras: [{ bucket: 'jobs-in', key: 'home/alice/params/p.json' }] }),
      dir,
      s3.blobsFor,
      recordingLogger(),
    );
    expect(staged.inputFile).toBe(join(dir, 'run.sh'));
    expect(await readFile(join(dir, 'run.sh'), 'utf8')).toBe('echo hi\n');
    expect(await readFile(join(dir, 'p.json'), 'utf8')).toBe('{"n":1}');
    expect(staged.items.map((i) => i.bytes)).toEqual([8, 7]);
  });

  it("refuses other users' and other jobs' prefixes before downloading anything", async () => {
    const s3 = memoryBuckets();
    await s3.bucket('jobs-in').put('home/alice/run.sh', 'x');
    await s3.bucket('jobs-in').put('home/bob/secret.tar', 'x');
    const err = await refusal(
      stageInputs(
        plan({ extras: [{ bucket: 'jobs-in', key: 'home/bob/secret.tar' }] }),
        inputDir(),
        s3.blobsFor,
        recordingLogger(),
      ),
    );
    expect(err.message).toBe(
      "input s3://jobs-in/home/bob/secret.tar refused: outside this job's input prefixes (s3://jobs-in/home/alice/)",
    );
    expect(err.exitCode).toBe(65);
    expect(s3.bucket('jobs-in').gets).toEqual([]);
  });

  it('refuses keys with .. and encoded slashes even when they look inside the prefix', async () => {
    const s3 = memoryBuckets();
    for (const key of ['home/alice/../bob/x', 'home/alice/..%2Fbob%2Fx', 'home/alice/%2e%2e/bob']) {
      const err = await refusal(
        stageInputs(
          plan({ trigger: { location: { bucket: 'jobs-in', key } } }),
          inputDir(),
          s3.blobsFor,
          recordingLogger(),
        ),
      );
      expect(err.input).toBe(`s3://jobs-in/${key}`);
    }
  });

  it('refuses an object over the size limit by its HEAD, and one that grows past it while downloading', async () => {
    const s3 = memoryBuckets();
    const bucket = s3.bucket('jobs-in');
    await bucket.put('home/alice/run.sh', Buffer.alloc(2048));
    const big = await refusal(stageInputs(plan({}), inputDir(), s3.blobsFor, recordingLogger()));
    expect(big.message).toBe(
      'input s3://jobs-in/home/alice/run.sh refused: is 2048 bytes, over the limit of 1024',
    );
    expect(bucket.gets).toEqual([]);
    bucket.headSize.set('home/alice/run.sh', 10); // replaced by a bigger object after the HEAD
    const dir = inputDir();
    const grown = await refusal(stageInputs(plan({}), dir, s3.blobsFor, recordingLogger()));
    expect(grown.message).toMatch(/grew over the limit of 1024 bytes while downloading/);
  });

  it('refuses a missing object, a changed ETag and two inputs with one name', async () => {
    const s3 = memoryBuckets();
    expect(
      (await refusal(stageInputs(plan({}), inputDir(), s3.blobsFor, recordingLogger()))).message,
    ).toMatch(/does not exist/);
    await s3.bucket('jobs-in').put('home/alice/run.sh', 'abc');
    const changed = plan({
      trigger: { location: { bucket: 'jobs-in', key: 'home/alice/run.sh' }, etag: '"etag-999"' },
    });
    expect((await refusal(stageInputs(changed, inputDir(), s3.blobsFor, recordingLogger()))).message).toMatch(
      /changed since the job was submitted/,
    );
    const twice = plan({
      extras: [
        { bucket: 'jobs-in', key: 'home/alice/a/data.tar' },
        { bucket: 'jobs-in', key: 'home/alice/b/data.zip' },
      ],
    });
    expect((await refusal(stageInputs(twice, inputDir(), s3.blobsFor, recordingLogger()))).message).toMatch(
      /another input already uses the name "data"/,
    );
  });

  it('leaves no partial download behind a refused archive', async () => {
    const s3 = memoryBuckets();
    await s3.bucket('jobs-in').put('home/alice/run.sh', 'x');
    await s3.bucket('jobs-in').put('home/alice/deps.tar.gz', 'this is not gzip');
    const dir = inputDir();
    const err = await refusal(
      stageInputs(
        plan({ extras: [{ bucket: 'jobs-in', key: 'home/alice/deps.tar.gz' }] }),
        dir,
        s3.blobsFor,
        recordingLogger(),
      ),
    );
    expect(err.message).toMatch(
      /^input s3:\/\/jobs-in\/home\/alice\/deps.tar.gz refused: not a readable tar.gz archive/,
    );
    expect((await readdir(dir)).filter((name) => name.startsWith('.download'))).toEqual([]);
  });
});
