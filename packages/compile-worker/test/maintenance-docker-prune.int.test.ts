// pruneStaleContainers and pruneImages against a real Docker Engine: containers labelled like
// the executor's, and tiny images imported under this run's own repository names, so nothing
// else on the engine (other test files, the builder test image) is ever in reach.
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { AbortedError } from '@spotjobs/core';
import type Docker from 'dockerode';
import * as tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildLabels } from '../src/executor/container-build-executor.ts';
import { CompileContainerRoles } from '../src/maintenance/container-roles.ts';
import { pruneImages } from '../src/maintenance/images-prune.ts';
import { pruneStaleContainers } from '../src/maintenance/stale-containers-prune.ts';
import { newTestRunId, prepareDocker, removeTestRun, TEST_RUN_LABEL } from './support/executor-docker.ts';

let docker: Docker;
let image: string;
const runId = newTestRunId();
/** Repositories this file imports into; all removed afterwards. */
const ours = `spotjobs-prune-test-${runId}`;
const unrelated = `spotjobs-unrelated-${runId}`;
const elsewhere = `spotjobs-elsewhere-${runId}`;
let seq = 0;

beforeAll(async () => {
  ({ docker, image } = await prepareDocker());
}, 360_000);

afterAll(async () => {
  if (!docker) return;
  await removeTestRun(docker, runId);
  const images = await docker.listImages({ all: true });
  for (const img of images) {
    const refs = [...(img.RepoTags ?? [])];
    const mine = refs.some((r) => [ours, unrelated, elsewhere].some((repo) => r.startsWith(`${repo}:`)));
    if (mine || img.Labels?.['spotjobs.test-prune'] === runId) {
      await docker
        .getImage(img.Id)
        .remove({ force: true })
        .catch(() => {});
    }
  }
});

const runLabel = { [TEST_RUN_LABEL]: runId };

/** A container of this run with the executor's labels; started, and waited for when `exits`. */
async function container(
  labels: Record<string, string>,
  how: 'created' | 'exited' | 'running',
): Promise<Docker.Container> {
  const c = await docker.createContainer({
    name: `spotjobs-prune-${runId}-${++seq}`,
    Image: image,
    Entrypoint: how === 'exited' ? ['true'] : ['sleep', 'infinity'],
    Cmd: [],
    Labels: { ...runLabel, ...labels },
    HostConfig: { Init: true, NetworkMode: 'none' },
  });
  if (how !== 'created') await c.start();
  if (how === 'exited') await c.wait();
  return c;
}

async function exists(c: Docker.Container): Promise<boolean> {
  return c.inspect().then(
    () => true,
    () => false,
  );
}

/** `docker import` of a one-file rootfs (unique content, so a distinct image) as `repo:tag`. */
async function importImage(
  repo: string,
  tag: string,
  changes: string[] = [],
): Promise<Docker.ImageInspectInfo> {
  const pack = tar.pack();
  pack.entry({ name: 'content', mode: 0o644 }, randomBytes(2048 + Math.floor(Math.random() * 2048)));
  pack.finalize();
  const progress = await docker.importImage(pack as unknown as NodeJS.ReadableStream, {
    repo,
    tag,
    ...(changes.length > 0 ? { changes } : {}),
  });
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(progress, (err) => (err ? reject(err) : resolve())),
  );
  return docker.getImage(`${repo}:${tag}`).inspect();
}

async function imageExists(idOrRef: string): Promise<boolean> {
  return docker
    .getImage(idOrRef)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

describe('pruneStaleContainers', () => {
  it("removes this product's exited and overdue containers, keeps fresh, kept and foreign ones", async () => {
    const exitedBuild = await container(
      { [BuildLabels.role]: CompileContainerRoles.build, [BuildLabels.jobId]: `job-${runId}-a` },
      'exited',
    );
    const createdProbe = await container({ [BuildLabels.role]: CompileContainerRoles.pkgdir }, 'created');
    const overdueBuild = await container(
      { [BuildLabels.role]: CompileContainerRoles.build, [BuildLabels.jobId]: `job-${runId}-b` },
      'running',
    );
    const keptBuild = await container(
      { [BuildLabels.role]: CompileContainerRoles.build, [BuildLabels.jobId]: `job-${runId}-c` },
      'running',
    );
    const keptById = await container({ [BuildLabels.role]: CompileContainerRoles.sync }, 'exited');
    const unlabelled = await container({}, 'exited');
    const foreignRole = await container({ [BuildLabels.role]: 'someone-else' }, 'exited');
    const oldStarted = Date.now();
    await delay(3000);
    const freshStarted = Date.now();
    const freshSync = await container({ [BuildLabels.role]: CompileContainerRoles.sync }, 'running');
    // Half-way between the two starts: the old ones are older, the fresh one younger, with
    // 1.5 s of margin on either side whatever the machine's load.
    const olderThanMs = Date.now() - freshStarted + (freshStarted - oldStarted) / 2;

    const report = await pruneStaleContainers({
      docker,
      olderThanMs,
      minAgeMs: 0,
      labels: runLabel,
      keep: [`job-${runId}-c`, keptById.id.slice(0, 12)],
      signal: AbortSignal.timeout(60_000),
    });

    expect(report.failures).toEqual([]);
    expect(report.scanned).toBe(6);
    expect(report.kept).toBe(3);
    const removed = new Map(report.removed.map((r) => [r.id, r]));
    expect([...removed.keys()].sort()).toEqual([exitedBuild.id, createdProbe.id, overdueBuild.id].sort());
    expect(removed.get(exitedBuild.id)).toMatchObject({
      role: 'compile-build',
      jobId: `job-${runId}-a`,
      state: 'exited',
      reason: 'not-running',
    });
    expect(removed.get(createdProbe.id)).toMatchObject({
      role: 'compile-pkgdir',
      state: 'created',
      reason: 'not-running',
    });
    expect(removed.get(overdueBuild.id)).toMatchObject({ state: 'running', reason: 'overdue' });
    for (const gone of [exitedBuild, createdProbe, overdueBuild]) expect(await exists(gone)).toBe(false);
    for (const left of [keptBuild, keptById, unlabelled, foreignRole, freshSync])
      expect(await exists(left)).toBe(true);
  });

  it('never removes a container younger than minAgeMs, even an exited one (the PKGDIR probe before its own removal)', async () => {
    const label = { 'spotjobs.test-case': randomBytes(4).toString('hex') };
    const probe = await container({ ...label, [BuildLabels.role]: CompileContainerRoles.pkgdir }, 'exited');

    const report = await pruneStaleContainers({
      docker,
      olderThanMs: 1,
      labels: { ...runLabel, ...label },
      signal: AbortSignal.timeout(60_000),
    });

    expect(report).toMatchObject({ scanned: 1, removed: [], kept: 1 });
    expect(await exists(probe)).toBe(true);
  });

  it('rejects AbortedError when aborted', async () => {
    const controller = new AbortController();
    controller.abort();

    await expect(
      pruneStaleContainers({ docker, olderThanMs: 1000, labels: runLabel, signal: controller.signal }),
    ).rejects.toBeInstanceOf(AbortedError);
  });
});

describe('pruneImages', () => {
  it("removes this product's images nothing uses; keeps the configured one, one a container uses, and unrelated ones", async () => {
    const inUse = await importImage(ours, 'v1');
    const stale = await importImage(ours, 'v2');
    const configured = await importImage(ours, 'v3');
    const other = await importImage(unrelated, 'v1');
    const shared = await importImage(ours, 'shared');
    await docker.getImage(shared.Id).tag({ repo: elsewhere, tag: 'keep' });
    await docker.createContainer({ Image: `${ours}:v1`, Entrypoint: ['/none'], Cmd: [], Labels: runLabel });
    const [staleInfo] = await docker.listImages({ filters: { reference: [`${ours}:v2`] } });

    const report = await pruneImages({ docker, keep: [`${ours}:v3`], signal: AbortSignal.timeout(60_000) });

    expect(report.failures).toEqual([]);
    expect(report.removed).toEqual([{ id: stale.Id, refs: [`${ours}:v2`], size: staleInfo?.Size }]);
    expect(report.freedBytes).toBe(staleInfo?.Size);
    expect(report.freedBytes).toBeGreaterThan(2048);
    expect(report.untagged).toEqual([`${ours}:shared`]);
    expect(report).toMatchObject({ scanned: 4, kept: 3 });
    expect(await imageExists(stale.Id)).toBe(false);
    for (const id of [inUse.Id, configured.Id, other.Id, shared.Id]) expect(await imageExists(id)).toBe(true);
    expect(await imageExists(`${ours}:shared`)).toBe(false);
    expect(await imageExists(`${elsewhere}:keep`)).toBe(true);
    expect(await imageExists(image)).toBe(true); // the builder test image: another repository
  });

  it('removes a dangling image recognised by its labels, and nothing unlabelled', async () => {
    const labelChange = `LABEL spotjobs.test-prune=${runId}`;
    const before = await importImage(ours, 'moving', [labelChange]);
    const after = await importImage(ours, 'moving'); // the tag moves on: `before` is dangling now
    const dangling = await docker.getImage(before.Id).inspect();

    const report = await pruneImages({
      docker,
      keep: [],
      repositories: [],
      labels: { 'spotjobs.test-prune': runId },
      signal: AbortSignal.timeout(60_000),
    });

    expect(dangling.RepoTags).toEqual([]);
    expect(report.removed).toEqual([{ id: before.Id, refs: [], size: expect.any(Number) }]);
    expect(await imageExists(before.Id)).toBe(false);
    expect(await imageExists(after.Id)).toBe(true);
  });

  it('does nothing without a repository or a label to recognise its images by', async () => {
    const report = await pruneImages({ docker, keep: [], signal: AbortSignal.timeout(60_000) });

    expect(report).toEqual({ scanned: 0, removed: [], untagged: [], kept: 0, freedBytes: 0, failures: [] });
  });
});
