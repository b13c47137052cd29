// The whole compile path on real parts: HTTP request → SQS (fauxqs) → build daemon (core runner)
// → a fresh container on the real Docker Engine (the imported builder test image, whose emerge
// stand-in records its argv and env) → artifact and log in S3 (fauxqs) → record in DynamoDB
// (dynalite) → SUCCESS with a presigned link whose bytes match the recorded sha256.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';

import { join } from 'node:path';
import { ManualInterruptionSource, type Runner } from '@spotjobs/core';
import type Docker from 'dockerode';
import { beforeAll, describe, expect, inject, it, onTestFinished, vi } from 'vitest';
import type { BuilderProfile } from '../src/build/builder-profile.ts';
import { createCompileDaemon } from '../src/daemon/compile-daemon.ts';
import { ContainerBuildExecutor } from '../src/executor/container-build-executor.ts';
import { API_KEY, type ApiBackend, emulatorBackend } from './support/api-backends.ts';
import { useDockerTestFile } from './support/docker-test-file.ts';
import { containersLabelled, standinCalls, TEST_RUN_LABEL } from './support/executor-docker.ts';

let docker: Docker;
let image: string;
let scratch: string;
const runId = useDockerTestFile('compile-daemon-', (env) => ({ docker, image, scratch } = env));
let profile: BuilderProfile;
const backendOf = emulatorBackend(inject('emulators'));

beforeAll(async () => {
  const { Id } = await docker.getImage(image).inspect();
  // Pinned to the image the builds really run on: the daemon checks it before recording.
  profile = { imageDigest: Id, arch: 'amd64', makeConfProfile: 'pacloud-2018' };
});

let workerSeq = 0;

/** A build daemon on `backend` with its own executor, running until the test ends. */
async function startDaemon(
  backend: ApiBackend,
  options: { sources?: ManualInterruptionSource[]; cacheDir?: string } = {},
): Promise<{ runner: Runner; workerId: string; done: Promise<void> }> {
  const workerId = `worker-${runId}-${++workerSeq}`;
  const executor = new ContainerBuildExecutor({
    docker,
    image,
    workDir: join(scratch, workerId),
    cacheDir: options.cacheDir ?? join(scratch, `${workerId}-binpkgs`),
    networkMode: 'none',
    memoryBytes: 256 * 2 ** 20,
    cpus: 0.5,
    pidsLimit: 128,
    stopTimeoutSeconds: 2,
    labels: { [TEST_RUN_LABEL]: runId, 'spotjobs.test-worker': workerId },
  });
  const runner = await createCompileDaemon({
    queue: backend.queue,
    builds: backend.builds,
    blobs: backend.blobs,
    executor,
    workerId,
    visibilityTimeoutSeconds: 20,
    buildTimeoutMs: 120_000,
    shutdownGraceMs: 5_000,
    ...(options.sources ? { interruptions: { sources: options.sources, releaseMarginMs: 1_000 } } : {}),
  });
  const done = runner.run();
  onTestFinished(async () => {
    await runner.stop({ graceMs: 0 }).catch(() => {});
    await done.catch(() => {});
  });
  return { runner, workerId, done };
}

interface CompatAnswer {
  readonly status: 'WAIT' | 'SUCCESS' | 'FAILED';
  readonly linkS3?: string;
  readonly errorMessage?: string;
}

async function compat(backend: ApiBackend, pkg: string, version: string, useflag: string) {
  const query = new URLSearchParams({ package: pkg, version, useflag });
  const response = await fetch(`${backend.url}/LATEST/package?${query}`, {
    headers: { 'x-api-key': API_KEY },
  });
  return { status: response.status, body: (await response.json()) as CompatAnswer };
}

/** Polls the compat endpoint (as the original client does, but every 200 ms) until not WAIT. */
async function awaitVerdict(backend: ApiBackend, pkg: string, version: string, useflag: string) {
  for (;;) {
    const { body } = await compat(backend, pkg, version, useflag);
    if (body.status !== 'WAIT') return body;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The build id the clean API answers for an already submitted atom (submitting again is a no-op). */
async function buildIdOf(backend: ApiBackend, atom: string, use: string[]): Promise<string> {
  const response = await fetch(`${backend.url}/v1/builds`, {
    method: 'POST',
    headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ atom, use }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

async function download(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

async function blobText(backend: ApiBackend, key: string): Promise<string> {
  const { body } = await backend.blobs.get(key);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('build daemon on fauxqs, dynalite and Docker', () => {
  it('serves a request end to end: WAIT, then SUCCESS with the artifact whose sha256 is recorded', async () => {
    const backend = await backendOf({ profile });
    const { workerId } = await startDaemon(backend);

    const first = await compat(backend, 'app-misc/ranger', '1.8.1', '-test doc');
    expect(first).toEqual({ status: 200, body: { status: 'WAIT' } });
    const verdict = await awaitVerdict(backend, 'app-misc/ranger', '1.8.1', '-test doc');
    expect(verdict.status).toBe('SUCCESS');
    const bytes = await download(verdict.linkS3 ?? '');

    const record = await backend.builds.get(
      await buildIdOf(backend, 'app-misc/ranger-1.8.1', ['doc', '-test']),
    );
    expect(record).toMatchObject({
      state: 'ready',
      attempts: 1,
      workerId,
      artifact: { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length },
    });
    expect(record?.artifact?.key).toMatch(/^packages\/[0-9a-f-]{36}-app-misc@ranger-1\.8\.1\.gpkg\.tar$/);

    // The stored log holds the stand-in's records: the exact commands, USE on both, no shell.
    const log = await blobText(backend, record?.log?.key ?? '');
    const calls = standinCalls(log.split('\n').map((l) => l.replace(/^.*?(standin-record)/, '$1')));
    expect(calls.map((c) => c.argv)).toEqual([
      ['--onlydeps', '--onlydeps-with-rdeps', 'n', '=app-misc/ranger-1.8.1'],
      ['--buildpkgonly', '=app-misc/ranger-1.8.1'],
    ]);
    for (const call of calls) expect(call.env.USE).toBe('doc -test');

    // The job settles (container removed, message acked) just after the record reads ready.
    await vi.waitFor(
      async () => {
        expect(await containersLabelled(docker, 'spotjobs.test-worker', workerId)).toEqual([]);
        expect(await backend.queue.depth()).toMatchObject({ visible: 0, inFlight: 0 });
      },
      { timeout: 30_000, interval: 200 },
    );
  }, 180_000);

  it('records a failed build with its reason and its log', async () => {
    const backend = await backendOf({ profile });
    await startDaemon(backend);
    const verdict = await awaitVerdict(backend, 'app-misc/fail-build', '2.0', '');
    expect(verdict.status).toBe('FAILED');
    expect(verdict.errorMessage).toMatch(/package-failed/);
    expect(verdict.errorMessage).toMatch(/exit(ed)? (code )?3/);

    const record = await backend.builds.get(await buildIdOf(backend, 'app-misc/fail-build-2.0', []));
    expect(record).toMatchObject({ state: 'failed', attempts: 1, artifact: null });
    expect(record?.history.at(-1)).toMatchObject({ outcome: 'failed', logKey: record?.log?.key });
    const log = await blobText(backend, record?.log?.key ?? '');
    expect(log).toContain('!!! ERROR: app-misc/fail-build-2.0 failed (compile phase)');
    expect(log).toContain('make: *** [Makefile:12: all] Error 1');
  }, 180_000);

  it('dead-letters a forged message before anything runs, and bad requests never reach the queue', async () => {
    const backend = await backendOf({ profile });
    const events = await docker.getEvents({
      filters: JSON.stringify({
        type: ['container'],
        event: ['create'],
        label: [`${TEST_RUN_LABEL}=${runId}`],
      }),
    });
    const created: string[] = [];
    events.on('data', (chunk: Buffer) => created.push(chunk.toString('utf8')));
    onTestFinished(() => (events as unknown as { destroy(): void }).destroy());

    const bad = [
      { package: 'app-misc/ranger;rm -rf /', version: '1.0', useflag: '' },
      { package: '../../etc/passwd', version: '1.0', useflag: '' },
      { package: 'app-misc/ranger', version: '1.0$(id)', useflag: '' },
      { package: 'app-misc/ranger', version: '1.0', useflag: 'doc `id`' },
      { package: 'app-misc/rangér', version: '1.0', useflag: '' },
      { package: `app-misc/${'a'.repeat(300)}`, version: '1.0', useflag: '' },
      { package: 'app-misc/ranger', version: '1.0', useflag: 'x'.repeat(5000) },
    ];
    for (const q of bad) {
      const { status, body } = await compat(backend, q.package, q.version, q.useflag);
      expect(status, JSON.stringify(q).slice(0, 80)).toBe(400);
      expect(JSON.stringify(body)).toMatch(/package|version|use/i);
    }
    expect(await backend.queue.depth()).toMatchObject({ visible: 0, inFlight: 0 });

    // A message that skips the API (forged or corrupted on the queue) stops at the schema.
    const { runner } = await startDaemon(backend);
    const deadLettered = new Promise<string>((resolve) =>
      runner.on('job:dead-lettered', (j) => resolve(j.reason)),
    );
    await backend.queue.send([
      {
        body: JSON.stringify({
          type: 'compile',
          packageExpression: 'app-misc/x-1.0; rm -rf /',
          nameLong: 'app-misc/x',
          category: 'app-misc',
          nameShort: 'x',
          version: '1.0; rm -rf /',
          useflag: ' ',
          buildId: 'a'.repeat(64),
          generation: 1,
          use: [],
          profile,
          requestedAt: 0,
        }),
      },
    ]);
    expect(await deadLettered).toMatch(/version/);
    await new Promise((r) => setTimeout(r, 500)); // let a create event arrive, if any were made
    expect(created).toEqual([]);
  }, 180_000);

  it('on a terminate notice stops the container and gives the build back; another worker completes it: one artifact', async () => {
    const backend = await backendOf({ profile });
    const notices = new ManualInterruptionSource();
    const a = await startDaemon(backend, { sources: [notices] });
    const first = await compat(backend, 'app-misc/slow-build', '1.0', '');
    expect(first.body.status).toBe('WAIT');
    const id = await buildIdOf(backend, 'app-misc/slow-build-1.0', []);
    await vi.waitFor(
      async () => {
        expect((await backend.builds.get(id))?.workerId).toBe(a.workerId);
        const running = await containersLabelled(docker, 'spotjobs.test-worker', a.workerId);
        expect(running.filter((c) => c.State === 'running')).toHaveLength(1);
      },
      { timeout: 60_000, interval: 100 },
    );

    await notices.emit({ kind: 'terminate', at: Date.now() + 30_000, source: 'test' });
    await a.done;
    expect(await containersLabelled(docker, 'spotjobs.test-worker', a.workerId)).toEqual([]);
    const released = await backend.builds.get(id);
    expect(released).toMatchObject({ state: 'queued', workerId: null });
    expect(released?.history.at(-1)).toMatchObject({ workerId: a.workerId, outcome: 'released' });
    expect((await compat(backend, 'app-misc/slow-build', '1.0', '')).body.status).toBe('WAIT');

    // The second host's cache tells the stand-in to finish at once.
    const cacheDir = join(scratch, `fast-cache-${runId}`);
    await mkdir(cacheDir, { recursive: true });
    await writeFile(join(cacheDir, '.standin-fast'), '');
    const b = await startDaemon(backend, { cacheDir });
    const verdict = await awaitVerdict(backend, 'app-misc/slow-build', '1.0', '');
    expect(verdict.status).toBe('SUCCESS');
    const ready = await backend.builds.get(id);
    expect(ready?.history.map((h) => [h.workerId, h.outcome])).toEqual([
      [a.workerId, 'released'],
      [b.workerId, 'ready'],
    ]);
    expect((await backend.blobs.list({ prefix: 'packages/' })).items.map((i) => i.key)).toEqual([
      ready?.artifact?.key,
    ]);
  }, 240_000);
});
