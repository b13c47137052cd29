import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../src/adapters/aws/index.ts';
import { ConditionFailedError } from '../src/errors.ts';
import { awsTestClientConfig } from '../src/testing/emulators.ts';

// fauxqs ignores If-None-Match, so the 412 path is proven against a tiny stand-in that
// answers the way S3 does: 412 PreconditionFailed on PutObject and CompleteMultipartUpload
// when the key exists; the multipart steps before completion succeed as on S3.

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

const MiB = 1024 * 1024;
const existing = new Set<string>();
const seen: Seen[] = [];
let server: Server;
let client: S3Client;

const preconditionFailed = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition><RequestId>TEST</RequestId><HostId>TEST</HostId></Error>`;

function fakeS3(): Server {
  return createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const key = url.pathname;
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      const conflict = req.headers['if-none-match'] === '*' && existing.has(key);
      if (req.method === 'POST' && url.searchParams.has('uploads')) {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(
          `<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>${key}</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>`,
        );
      } else if (req.method === 'PUT' && url.searchParams.has('partNumber')) {
        res.writeHead(200, { etag: `"part-${url.searchParams.get('partNumber')}"` });
        res.end();
      } else if (req.method === 'DELETE' && url.searchParams.has('uploadId')) {
        res.writeHead(204);
        res.end();
      } else if (conflict) {
        res.writeHead(412, { 'content-type': 'application/xml' });
        res.end(preconditionFailed);
      } else if (req.method === 'POST' && url.searchParams.has('uploadId')) {
        existing.add(key);
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(
          `<CompleteMultipartUploadResult><Key>${key}</Key><ETag>"multi-2"</ETag></CompleteMultipartUploadResult>`,
        );
      } else if (req.method === 'PUT') {
        existing.add(key);
        res.writeHead(200, { etag: '"single"' });
        res.end();
      } else {
        // HEAD after a successful put: describe the object.
        res.writeHead(200, {
          etag: '"single"',
          'content-length': '1',
          'last-modified': new Date().toUTCString(),
        });
        res.end();
      }
    });
  });
}

beforeAll(async () => {
  server = fakeS3();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  client = new S3Client({ ...awsTestClientConfig, endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });
});

afterAll(async () => {
  client.destroy();
  server.close();
  await once(server, 'close');
});

function requestsFor(key: string): Seen[] {
  return seen.filter((r) => new URL(r.url, 'http://localhost').pathname === `/bucket/${key}`);
}

describe('S3BlobStore ifAbsent against an S3 stand-in answering 412', () => {
  const store = () => new S3BlobStore({ client, bucket: 'bucket', partSizeBytes: 5 * MiB });

  it('sends If-None-Match: * on a single PUT and maps 412 to ConditionFailedError', async () => {
    await store().put('small.txt', 'first', { ifAbsent: true });

    const failure = await store()
      .put('small.txt', 'second', { ifAbsent: true })
      .catch((err: unknown) => err);

    const puts = requestsFor('small.txt').filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(2);
    expect(puts.map((r) => r.headers['if-none-match'])).toEqual(['*', '*']);
    expect(failure).toBeInstanceOf(ConditionFailedError);
    expect((failure as ConditionFailedError).key).toBe('small.txt');
  });

  it('sends If-None-Match: * on CompleteMultipartUpload and maps its 412, aborting the upload', async () => {
    await store().put('big.bin', randomBytes(6 * MiB), { ifAbsent: true });

    const failure = await store()
      .put('big.bin', randomBytes(6 * MiB), { ifAbsent: true })
      .catch((err: unknown) => err);

    const requests = requestsFor('big.bin');
    const completes = requests.filter((r) => r.method === 'POST' && r.url.includes('uploadId='));
    expect(requests.filter((r) => r.method === 'PUT' && r.url.includes('partNumber='))).toHaveLength(4);
    expect(completes.map((r) => r.headers['if-none-match'])).toEqual(['*', '*']);
    expect(requests.some((r) => r.method === 'DELETE')).toBe(true); // AbortMultipartUpload after the 412
    expect(failure).toBeInstanceOf(ConditionFailedError);
  });

  it('sends no If-None-Match without ifAbsent', async () => {
    await store().put('plain.txt', 'x');
    await store().put('plain.txt', 'y');

    const puts = requestsFor('plain.txt').filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.headers['if-none-match'])).toEqual([undefined, undefined]);
  });
});
