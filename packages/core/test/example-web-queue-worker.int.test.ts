// The Web-Queue-Worker example (examples/web-queue-worker) run as a client would use it: over
// HTTP, on both adapter families, plus its composition root as a real process.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteQueueCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PNG } from 'pngjs';
import { describe, expect, inject, it, onTestFinished, vi } from 'vitest';
import { type ImageBackend, openBackend } from '../examples/web-queue-worker/backend.ts';
import { loadConfig } from '../examples/web-queue-worker/config.ts';
import { startWeb } from '../examples/web-queue-worker/web.ts';
import { createWorker } from '../examples/web-queue-worker/worker.ts';
import { silentLogger } from '../src/observability/create-logger.ts';
import { DeadLetterAttributes, type QueueMessage } from '../src/ports/queue.ts';
import { awsTestClientConfig } from '../src/testing/emulators.ts';
import { startJsonLogProcess } from '../src/testing/json-log-process.ts';
import { tempDataDir } from './fixtures/local-temp-store.ts';

const emulators = inject('emulators');
const mainScript = fileURLToPath(new URL('../examples/web-queue-worker/main.ts', import.meta.url));
const MAX_UPLOAD_BYTES = 256 * 1024;
const MAX_DIMENSION = 512;

interface Family {
  readonly name: 'local' | 'aws';
  /** The family's settings for one test, with unique names; its resources go when the test ends. */
  env(): Promise<Record<string, string>>;
}

const local: Family = {
  name: 'local',
  env: async () => ({ SPOTJOBS_BACKEND: 'local', SPOTJOBS_DATA_DIR: await tempDataDir() }),
};

const aws: Family = {
  name: 'aws',
  async env() {
    const name = `wqw-${randomUUID().slice(0, 8)}`;
    onTestFinished(async () => {
      const sqs = new SQSClient({ ...awsTestClientConfig, endpoint: emulators.sqs });
      const dynamodb = new DynamoDBClient({ ...awsTestClientConfig, endpoint: emulators.dynamodb });
      for (const QueueName of [name, `${name}-dlq`]) {
        const { QueueUrl } = await sqs
          .send(new GetQueueUrlCommand({ QueueName }))
          .catch(() => ({ QueueUrl: '' }));
        if (QueueUrl) await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {});
      }
      await dynamodb.send(new DeleteTableCommand({ TableName: name })).catch(() => {});
      sqs.destroy();
      dynamodb.destroy();
    });
    return {
      SPOTJOBS_BACKEND: 'aws',
      SPOTJOBS_QUEUE: name,
      SPOTJOBS_TABLE: name,
      SPOTJOBS_BUCKET: name,
      SPOTJOBS_SQS_ENDPOINT: emulators.sqs,
      SPOTJOBS_S3_ENDPOINT: emulators.s3,
      SPOTJOBS_DYNAMODB_ENDPOINT: emulators.dynamodb,
    };
  },
};

/** Web and worker in this process, as main.ts composes them, on a free port. */
async function startApp(family: Family): Promise<{ url: string; backend: ImageBackend }> {
  const config = loadConfig({
    ...(await family.env()),
    SPOTJOBS_PORT: '0',
    SPOTJOBS_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
    SPOTJOBS_MAX_DIMENSION: String(MAX_DIMENSION),
  });
  const backend = await openBackend(config.backend, { awsCredentials: awsTestClientConfig.credentials });
  const options = { backend, maxDimension: config.maxDimension, logger: silentLogger };
  const runner = await createWorker({ ...options, concurrency: 2 });
  const web = await startWeb({ ...options, ...config.web });
  const running = runner.run();
  onTestFinished(async () => {
    await runner.stop();
    await running;
    await web.close();
    await backend.close();
  });
  return { url: web.url, backend };
}

/** A gradient through many hues, with a band of half-transparent pixels. */
function colourfulPng(width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      png.data[i] = Math.round((255 * x) / (width - 1));
      png.data[i + 1] = Math.round((255 * y) / (height - 1));
      png.data[i + 2] = (x * 37 + y * 91) % 256;
      png.data[i + 3] = y < 4 ? 128 : 255;
    }
  }
  return PNG.sync.write(png);
}

/** A PNG whose header is fine but whose pixel data is damaged (IDAT bytes flipped). */
function corruptPng(): Buffer {
  const png = Buffer.from(colourfulPng(32, 32));
  const idat = png.indexOf('IDAT');
  for (let i = idat + 8; i < idat + 40; i++) png[i] = (png[i] ?? 0) ^ 0xff;
  return png;
}

/** A valid signature and IHDR announcing `width` x `height`, with nothing after it. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const png = Buffer.from(colourfulPng(1, 2));
  const header = Buffer.from(png.subarray(0, 33));
  header.writeUInt32BE(width, 16);
  header.writeUInt32BE(height, 20);
  header.writeUInt32BE(crc32(header.subarray(12, 29)), 29);
  return header;
}

function post(url: string, body: NonNullable<RequestInit['body']>): Promise<Response> {
  return fetch(`${url}/images`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'image/png' },
    duplex: 'half',
  } as RequestInit);
}

async function json(response: Response): Promise<Record<string, unknown>> {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as Record<string, unknown>;
}

/** Polls GET /images/:id until the status is final. */
async function finalStatus(url: string, id: string): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  await vi.waitFor(
    async () => {
      const response = await fetch(`${url}/images/${id}`);
      expect(response.status).toBe(200);
      last = await json(response);
      expect(['done', 'failed']).toContain(last.status);
    },
    { timeout: 30_000, interval: 100 },
  );
  return last;
}

async function takeDeadLetters(backend: ImageBackend, count: number): Promise<QueueMessage[]> {
  const got: QueueMessage[] = [];
  await vi.waitFor(
    async () => {
      const batch = await backend.deadLetterQueue.receive({
        maxMessages: 10,
        visibilitySeconds: 60,
        waitSeconds: 1,
      });
      got.push(...batch);
      expect(got.length).toBeGreaterThanOrEqual(count);
    },
    { timeout: 20_000, interval: 50 },
  );
  return got;
}

describe.each([local, aws])('web-queue-worker example on the $name family', (family) => {
  it('turns an uploaded colour PNG into a greyscale PNG behind a presigned URL', async () => {
    const { url } = await startApp(family);
    const original = colourfulPng(61, 47);

    const accepted = await post(url, original);
    expect(accepted.status).toBe(202);
    const { id, status } = await json(accepted);
    expect(status).toBe('queued');
    expect(accepted.headers.get('location')).toBe(`/images/${id}`);

    const done = await finalStatus(url, String(id));
    expect(done).toMatchObject({ id, status: 'done', width: 61, height: 47 });
    const download = await fetch(String(done.downloadUrl));
    expect(download.status).toBe(200);
    const grey = PNG.sync.read(Buffer.from(await download.arrayBuffer()));
    const source = PNG.sync.read(original);

    expect([grey.width, grey.height]).toEqual([61, 47]);
    for (let i = 0; i < grey.data.length; i += 4) {
      const [r, g, b, a] = [grey.data[i], grey.data[i + 1], grey.data[i + 2], grey.data[i + 3]];
      const luma = 0.299 * source.data[i]! + 0.587 * source.data[i + 1]! + 0.114 * source.data[i + 2]!;
      if (r !== g || g !== b || Math.abs(r! - luma) > 1 || a !== source.data[i + 3]) {
        expect.fail(
          `pixel ${i / 4}: got rgba(${r},${g},${b},${a}), want grey ${luma.toFixed(1)} alpha ${source.data[i + 3]}`,
        );
      }
    }
  });

  it('marks a corrupt PNG failed and dead-letters its job with the reason', async () => {
    const { url, backend } = await startApp(family);

    const accepted = await post(url, corruptPng());
    expect(accepted.status).toBe(202);
    const { id } = await json(accepted);

    const failed = await finalStatus(url, String(id));
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^corrupt or unsupported image: /);
    expect(failed).not.toHaveProperty('downloadUrl');
    const [letter, ...others] = await takeDeadLetters(backend, 1);
    expect(others).toEqual([]);
    expect(JSON.parse(letter!.body)).toEqual({ type: 'greyscale', id });
    expect(letter!.attributes[DeadLetterAttributes.reason]).toMatch(
      /^permanent failure: corrupt or unsupported image: /,
    );
  });

  it('answers bad requests with clear 4xx JSON errors and stores nothing', async () => {
    const { url, backend } = await startApp(family);
    const cases: [string, Promise<Response>, number, string][] = [
      ['text', post(url, 'hello, not an image'), 415, 'not_png'],
      ['empty body', post(url, new Uint8Array()), 415, 'not_png'],
      [
        'broken IHDR',
        post(url, Buffer.concat([pngHeaderOnly(8, 8).subarray(0, 29), Buffer.alloc(4)])),
        400,
        'invalid_png',
      ],
      ['zero width', post(url, pngHeaderOnly(0, 8)), 400, 'invalid_png'],
      ['too many pixels', post(url, pngHeaderOnly(MAX_DIMENSION + 1, 8)), 422, 'image_too_large'],
      ['too big (declared)', post(url, Buffer.alloc(MAX_UPLOAD_BYTES + 1)), 413, 'body_too_large'],
      [
        'too big (streamed)',
        post(
          url,
          new ReadableStream({
            start(controller) {
              for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(MAX_UPLOAD_BYTES / 4));
              controller.close();
            },
          }),
        ),
        413,
        'body_too_large',
      ],
      ['unknown id', fetch(`${url}/images/${randomUUID()}`), 404, 'not_found'],
      ['malformed id', fetch(`${url}/images/..%2F..%2Fetc`), 404, 'not_found'],
      ['bad escape', fetch(`${url}/images/%E0%A4%A`), 404, 'not_found'],
      ['unknown route', fetch(`${url}/nope`), 404, 'not_found'],
      ['wrong method', fetch(`${url}/images`), 405, 'method_not_allowed'],
    ];
    for (const [what, request, status, code] of cases) {
      const response = await request;
      const body = await json(response);
      expect({ what, status: response.status, code: (body.error as { code?: string })?.code }).toEqual({
        what,
        status,
        code,
      });
      expect((body.error as { message?: string }).message).toEqual(expect.any(String));
    }
    // Refused before anything was stored (or enqueued: the upload comes first).
    expect((await backend.blobs.list({ prefix: 'originals/' })).items).toEqual([]);
  });
});

describe('web-queue-worker main.ts as a process (local family)', () => {
  const start = (env: Record<string, string>) => startJsonLogProcess(mainScript, env);

  it('serves, converts, reports health and metrics, and exits 0 on SIGTERM', async () => {
    const { child, lines, exited } = start({
      SPOTJOBS_DATA_DIR: await tempDataDir(),
      SPOTJOBS_PORT: '0',
      SPOTJOBS_HEALTH_PORT: '0',
    });
    await vi.waitFor(() => expect(lines.some((l) => l.msg === 'web-queue-worker listening')).toBe(true), {
      timeout: 20_000,
      interval: 50,
    });
    const ready = lines.find((l) => l.msg === 'web-queue-worker listening')!;
    const url = String(ready.url);

    const { id } = await json(await post(url, colourfulPng(20, 10)));
    expect(await finalStatus(url, String(id))).toMatchObject({ status: 'done', width: 20, height: 10 });
    expect((await fetch(`${ready.health}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${ready.health}/metrics`)).text();
    expect(metrics).toContain('spotjobs_jobs_total{queue="images",type="greyscale",outcome="succeeded"} 1');

    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
    expect(lines.at(-1)).toMatchObject({ msg: 'runner stopped', jobs: { succeeded: 1 } });
  });

  it('refuses bad settings with exit code 78 and names each one', async () => {
    const { stderr, exited } = start({
      SPOTJOBS_PORT: 'eighty',
      SPOTJOBS_BACKEND: 'aws',
      SPOTJOBS_PROT: '1',
    });
    expect(await exited).toEqual([78, null]);
    expect(stderr()).toMatch(/invalid configuration/);
    expect(stderr()).toMatch(/SPOTJOBS_PROT: unknown setting/);
    expect(stderr()).toMatch(/SPOTJOBS_PORT: /);
    expect(stderr()).toMatch(/SPOTJOBS_BUCKET: /);
  });
});
