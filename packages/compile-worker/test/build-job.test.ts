// The build daemon's job on the real core runner and the embedded store, with a scripted
// executor: what is recorded, uploaded, released and cleaned up for every way a build can end.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { type HibernatePolicy, ManualInterruptionSource, type Runner } from '@spotjobs/core';
import type { FsBlobStore } from '@spotjobs/core/local';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { BuildRecord } from '../src/build/build-record.ts';
import { BuildService } from '../src/build/build-service.ts';
import { toBuildSpec } from '../src/build/build-spec.ts';
import { createCompileDaemon } from '../src/daemon/compile-daemon.ts';
import { localBuildBlobs } from '../src/local/local-compile.ts';
import { type LocalBuilds, localBuilds, tempDir, testProfile } from './support/local-builds.ts';
import { type BuildScript, ScriptedExecutor } from './support/scripted-executor.ts';

const spec = toBuildSpec({ category: 'app-misc', name: 'ranger', version: '1.8.1' }, ['-test', 'doc']);

interface Setup extends LocalBuilds {
  readonly blobs: FsBlobStore;
  readonly executor: ScriptedExecutor;
}

async function setup(script: (attempt: number) => BuildScript): Promise<Setup> {
  const local = await localBuilds();
  let builds = 0;
  const executor = new ScriptedExecutor(await tempDir(), () => script(++builds));
  executor.image = { id: testProfile.imageDigest, repoDigests: [] };
  return { ...local, blobs: localBuildBlobs(local.store), executor };
}

async function daemon(
  s: Setup,
  options: { workerId?: string; sources?: ManualInterruptionSource[]; hibernate?: HibernatePolicy } = {},
): Promise<Runner> {
  const runner = await createCompileDaemon({
    queue: s.queue,
    builds: s.builds,
    blobs: s.blobs,
    executor: s.executor,
    workerId: options.workerId ?? 'worker-a',
    visibilityTimeoutSeconds: 30,
    buildTimeoutMs: 60_000,
    shutdownGraceMs: 0,
    ...(options.sources
      ? {
          interruptions: {
            sources: options.sources,
            releaseMarginMs: 1_000,
            ...(options.hibernate ? { hibernate: options.hibernate } : {}),
          },
        }
      : {}),
  });
  const done = runner.run();
  onTestFinished(async () => {
    await runner.stop({ graceMs: 0 });
    await done;
  });
  return runner;
}

async function admit(s: Setup): Promise<string> {
  const admission = await s.builds.admit(spec, { mayEnqueue: true });
  return admission.id;
}

/** Resolves with the record once `test` holds (polled: the daemon runs in the background). */
async function until(s: Setup, id: string, test: (r: BuildRecord) => boolean): Promise<BuildRecord> {
  for (;;) {
    const record = await s.builds.get(id);
    if (record && test(record)) return record;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function keysUnder(blobs: FsBlobStore, prefix: string): Promise<string[]> {
  return (await blobs.list({ prefix })).items.map((i) => i.key);
}

describe('build job', () => {
  it('uploads the artifact with its sha256 and the log, records ready, and removes the work dir', async () => {
    const s = await setup(() => ({ kind: 'ready', bytes: Buffer.from('tar bytes') }));
    await daemon(s);
    const id = await admit(s);
    const record = await until(s, id, (r) => r.state === 'ready');
    expect(record).toMatchObject({
      attempts: 1,
      workerId: 'worker-a',
      artifact: { sha256: createHash('sha256').update('tar bytes').digest('hex'), size: 9 },
    });
    const { body, info } = await s.blobs.get(record.artifact?.key ?? '');
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('tar bytes');
    expect(info.metadata.sha256).toBe(record.artifact?.sha256);
    expect(await keysUnder(s.blobs, 'logs/')).toEqual([record.log?.key]);
    expect(s.executor.requests[0]).toMatchObject({ cpv: 'app-misc/ranger-1.8.1', use: ['doc', '-test'] });
    // The job settles (container gone, work dir removed, message acked) just after the record.
    await vi.waitFor(() => expect(existsSync(s.executor.workDirs[0] ?? '')).toBe(false));
  });

  it('records a failed build with its reason and log, and keeps no artifact', async () => {
    const s = await setup(() => ({ kind: 'failed' }));
    await daemon(s);
    const id = await admit(s);
    const record = await until(s, id, (r) => r.state === 'failed');
    expect(record.error?.message).toBe('package-failed: emerge package step exited 3');
    expect(record.log?.key).toMatch(/^logs\/.*\/g1-a1\.log$/);
    expect(await keysUnder(s.blobs, 'packages/')).toEqual([]);
  });

  it('gives a build back on a machine fault and tries again later', async () => {
    const s = await setup((attempt) => (attempt === 1 ? { kind: 'engine-fault' } : { kind: 'ready' }));
    const runner = await daemon(s);
    const retried = new Promise<number>((resolve) =>
      runner.on('job:retried', (j) => resolve(j.delaySeconds)),
    );
    const id = await admit(s);
    expect(await retried).toBe(30);
    const record = await until(s, id, (r) => r.state === 'queued' && r.history.length === 1);
    expect(record.history[0]).toMatchObject({ outcome: 'released', workerId: 'worker-a' });
    expect(record.history[0]?.reason).toMatch(/engine went away/);
  });

  it('refuses to record a build made on another image than the pinned one, and deletes nothing it keeps', async () => {
    const s = await setup(() => ({ kind: 'ready' }));
    s.executor.image = { id: `sha256:${'cd'.repeat(32)}`, repoDigests: [] };
    const runner = await daemon(s);
    const retried = new Promise<Error>((resolve) => runner.on('job:retried', (j) => resolve(j.error)));
    const id = await admit(s);
    expect((await retried).message).toMatch(/not the pinned builder/);
    expect((await s.builds.get(id))?.state).toBe('queued');
    expect(await keysUnder(s.blobs, 'packages/')).toEqual([]);
  });

  it('leaves a message for another builder profile untouched', async () => {
    const s = await setup(() => ({ kind: 'ready' }));
    // The same queue and table, admitted by a request path configured for another image.
    const foreign = new BuildService({
      table: s.table,
      queue: s.queue,
      profile: { ...testProfile, imageDigest: `sha256:${'ef'.repeat(32)}` },
    });
    const runner = await daemon(s);
    const retried = new Promise<Error>((resolve) => runner.on('job:retried', (j) => resolve(j.error)));
    const { id } = await foreign.admit(spec, { mayEnqueue: true });
    expect((await retried).message).toMatch(/message is for builder sha256:efef/);
    expect(await s.builds.get(id)).toMatchObject({ state: 'queued', attempts: 0 });
    expect(s.executor.requests).toEqual([]);
  });

  it('on a terminate notice stops the build, gives it back, and another worker completes it: one artifact', async () => {
    const s = await setup((attempt) => (attempt === 1 ? { kind: 'hang' } : { kind: 'ready' }));
    const notices = new ManualInterruptionSource();
    const a = await daemon(s, { workerId: 'worker-a', sources: [notices] });
    const id = await admit(s);
    await s.executor.started();
    await until(s, id, (r) => r.state === 'building');
    const stopped = new Promise<void>((resolve) =>
      a.on('state', (state) => state === 'STOPPED' && resolve()),
    );
    await notices.emit({ kind: 'terminate', at: Date.now() + 30_000, source: 'test' });
    await stopped;
    expect(s.executor.requests[0]?.signal.aborted).toBe(true);
    const released = await s.builds.get(id);
    expect(released).toMatchObject({ state: 'queued', workerId: null });
    expect(released?.history[0]).toMatchObject({ outcome: 'released', workerId: 'worker-a' });

    await daemon(s, { workerId: 'worker-b' });
    const ready = await until(s, id, (r) => r.state === 'ready');
    expect(ready.workerId).toBe('worker-b');
    expect(ready.history.map((h) => [h.workerId, h.outcome])).toEqual([
      ['worker-a', 'released'],
      ['worker-b', 'ready'],
    ]);
    expect(await keysUnder(s.blobs, 'packages/')).toHaveLength(1);
  });

  it('deletes an artifact that changed on disk before its upload, and retries', async () => {
    const s = await setup(() => ({ kind: 'ready' }));
    const inner = s.executor.build.bind(s.executor);
    s.executor.build = async (request) => {
      const result = await inner(request);
      if (result.ok) await writeFile(result.artifact.path, 'tampered');
      return result;
    };
    const runner = await daemon(s);
    const retried = new Promise<Error>((resolve) => runner.on('job:retried', (j) => resolve(j.error)));
    const id = await admit(s);
    expect((await retried).message).toMatch(/changed on disk/);
    expect(await keysUnder(s.blobs, 'packages/')).toEqual([]);
    expect((await s.builds.get(id))?.state).toBe('queued');
  });

  it('on a hibernate notice with the release policy gives the build back at once', async () => {
    const s = await setup(() => ({ kind: 'hang' }));
    const notices = new ManualInterruptionSource();
    const runner = await daemon(s, { sources: [notices] });
    const released = new Promise<string>((resolve) => runner.on('job:released', (j) => resolve(j.reason)));
    const id = await admit(s);
    await s.executor.started();
    await until(s, id, (r) => r.state === 'building');
    await notices.emit({ kind: 'hibernate', at: Date.now(), source: 'test' });
    expect(await released).toBe('hibernate');
    const record = await until(s, id, (r) => r.state === 'queued');
    expect(record.history.at(-1)).toMatchObject({ outcome: 'released', workerId: 'worker-a' });
  });

  it('on a hibernate notice with the hold policy keeps the build, which completes after the resume', async () => {
    const gate = Promise.withResolvers<void>();
    const s = await setup(() => ({ kind: 'ready-after', gate: gate.promise }));
    const notices = new ManualInterruptionSource();
    const runner = await daemon(s, { sources: [notices], hibernate: { policy: 'hold', holdSeconds: 600 } });
    const handled = (reaction: string) =>
      new Promise<void>((resolve) =>
        runner.on('interruption:handled', (h) => h.reaction === reaction && resolve()),
      );
    const id = await admit(s);
    await s.executor.started();
    await until(s, id, (r) => r.state === 'building');
    const held = handled('hold');
    await notices.emit({ kind: 'hibernate', at: Date.now(), source: 'test' });
    await held;
    const revalidated = handled('revalidate');
    await notices.emit({ kind: 'resume', at: Date.now(), source: 'test' });
    await revalidated;
    gate.resolve();
    const record = await until(s, id, (r) => r.state === 'ready');
    expect(record).toMatchObject({ attempts: 1, workerId: 'worker-a' });
    expect(s.executor.requests[0]?.signal.aborted).toBe(false);
  });
});
