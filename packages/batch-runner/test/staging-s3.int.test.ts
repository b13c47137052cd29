// Staging and uploads through the core S3BlobStore (real SDK) against fauxqs, with Debian's
// awscli as the outside client that put the inputs there and reads the outputs back.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { S3BlobStore } from '@spotjobs/core/aws';
import { awsTestClientConfig, recordingLogger } from '@spotjobs/core/testing';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { InputRefusedError } from '../src/run/runner-errors.ts';
import { type InputPlan, stageInputs } from '../src/staging/stage-inputs.ts';
import { uploadOutputs } from '../src/staging/upload-outputs.ts';
import { awsCli, headObject, listKeys, readObject, uploadFile } from './run-support/aws-cli.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function setUp() {
  const endpoint = inject('emulators').s3;
  const bucket = `staging-${randomUUID().slice(0, 8)}`;
  await awsCli(endpoint, ['s3', 'mb', `s3://${bucket}`]);
  const client = new S3Client({ ...awsTestClientConfig, endpoint });
  const blobsFor = (name: string) => new S3BlobStore({ client, bucket: name });
  const dir = join(tmpdir(), `staging-s3-${randomUUID()}`);
  await mkdir(dir, { recursive: true });
  dirs.push(dir);
  return { endpoint, bucket, blobsFor, dir };
}

describe('staging from S3', () => {
  it('checks the trigger against the ETag of the event: an object replaced since is refused', async () => {
    const t = await setUp();
    await writeFile(join(t.dir, 'v1.sh'), 'echo version 1\n');
    await uploadFile(t.endpoint, join(t.dir, 'v1.sh'), t.bucket, 'in/run.sh');
    const head = await headObject(t.endpoint, t.bucket, 'in/run.sh');
    const plan: InputPlan = {
      trigger: { location: { bucket: t.bucket, key: 'in/run.sh' }, etag: head.ETag },
      extras: [],
      allowedPrefixes: [{ bucket: t.bucket, key: 'in/' }],
      maxObjectBytes: 1024,
      maxExtractedBytes: 1024,
      maxArchiveEntries: 10,
    };
    const staged = await stageInputs(plan, join(t.dir, 'input-1'), t.blobsFor, recordingLogger());
    expect(await readFile(staged.inputFile!, 'utf8')).toBe('echo version 1\n');

    await writeFile(join(t.dir, 'v2.sh'), 'echo version 2, uploaded after the event\n');
    await uploadFile(t.endpoint, join(t.dir, 'v2.sh'), t.bucket, 'in/run.sh');
    const err = await stageInputs(plan, join(t.dir, 'input-2'), t.blobsFor, recordingLogger()).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputRefusedError);
    expect(String((err as Error).message)).toMatch(/changed since the job was submitted/);
  });
});

describe('uploading outputs to S3', () => {
  it('uploads every regular file under the run prefix, skips symlinks and excluded folders, time.log last', async () => {
    const t = await setUp();
    const out = join(t.dir, 'output');
    await mkdir(join(out, 'deep/er'), { recursive: true });
    await mkdir(join(out, 'input-copy'), { recursive: true });
    await writeFile(join(out, 'result.csv'), 'a,b\n1,2\n');
    await writeFile(join(out, 'deep/er/x.bin'), Buffer.from([0, 1, 2, 3]));
    await writeFile(join(out, 'input-copy/secret-input.txt'), 'not an output');
    await writeFile(join(out, 'time.log'), 'exit_code: 0\n');
    await symlink('/etc/passwd', join(out, 'passwd'));
    const logger = recordingLogger();
    const summary = await uploadOutputs(
      {
        outputDir: out,
        destination: { bucket: t.bucket, key: 'results/job-1/' },
        exclude: [join(out, 'input-copy')],
        last: ['time.log'],
      },
      t.blobsFor,
      logger,
    );
    expect(summary).toEqual({
      files: 3,
      bytes: 8 + 4 + 13,
      skipped: [{ path: 'passwd', reason: 'symlink (not followed)' }],
    });
    expect(await listKeys(t.endpoint, t.bucket, 'results/')).toEqual([
      'results/job-1/deep/er/x.bin',
      'results/job-1/result.csv',
      'results/job-1/time.log',
    ]);
    expect(await readObject(t.endpoint, t.bucket, 'results/job-1/result.csv')).toBe('a,b\n1,2\n');
    const head = await headObject(t.endpoint, t.bucket, 'results/job-1/time.log');
    expect(head.ContentType).toBe('text/plain; charset=utf-8');
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'output not uploaded', file: 'passwd' }),
    );
  });
});
