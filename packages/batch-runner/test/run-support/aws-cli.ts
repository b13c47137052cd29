import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Debian's awscli (`apt-get install awscli`: /usr/bin/aws), else an `aws` on PATH. Tests use
 * it as the outside client; without it they fail, clearly, rather than skip.
 */
export function awsCliPath(): string {
  if (existsSync('/usr/bin/aws')) return '/usr/bin/aws';
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(`${dir}/aws`)) return `${dir}/aws`;
  }
  throw new Error(
    'the AWS CLI is required by the batch-runner integration tests (Debian: apt-get install awscli); it was not found in /usr/bin or on PATH',
  );
}

/** Runs `aws --endpoint-url <endpoint> ...args` with test credentials; resolves with stdout. */
export async function awsCli(endpoint: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run(awsCliPath(), ['--endpoint-url', endpoint, ...args], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
    },
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  return stdout;
}

/** Keys under `s3://bucket/prefix`, relative to the bucket, sorted (from `aws s3 ls --recursive`). */
export async function listKeys(endpoint: string, bucket: string, prefix = ''): Promise<string[]> {
  const out = await awsCli(endpoint, ['s3', 'ls', '--recursive', `s3://${bucket}/${prefix}`]);
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.replace(/^\S+\s+\S+\s+\d+\s+/, ''))
    .sort();
}

/** An object's body as text (`aws s3 cp s3://... -`). */
export async function readObject(endpoint: string, bucket: string, key: string): Promise<string> {
  return awsCli(endpoint, ['s3', 'cp', '--only-show-errors', `s3://${bucket}/${key}`, '-']);
}

/** Puts the local file `path` at `s3://bucket/key` (`aws s3 cp`), as a user uploading an input would. */
export async function uploadFile(endpoint: string, path: string, bucket: string, key: string): Promise<void> {
  await awsCli(endpoint, ['s3', 'cp', '--only-show-errors', path, `s3://${bucket}/${key}`]);
}

/** What S3 says about an object (`aws s3api head-object`), the fields the tests check. */
export async function headObject(
  endpoint: string,
  bucket: string,
  key: string,
): Promise<{ ETag: string; ContentLength: number; ContentType?: string }> {
  return JSON.parse(await awsCli(endpoint, ['s3api', 'head-object', '--bucket', bucket, '--key', key]));
}
