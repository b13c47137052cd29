// refreshPortageTree against a real Docker Engine and the builder test image, whose emerge
// stand-in "syncs" by writing metadata/timestamp.chk and a sync counter (knob files in the tree
// make it slow or fail).
import { readdir, readFile, writeFile } from 'node:fs/promises';

import { join } from 'node:path';
import { AbortedError, ValidationError } from '@spotjobs/core';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { BuildEngineError } from '../src/executor/build-engine-error.ts';
import { BuildLabels } from '../src/executor/container-build-executor.ts';
import { runContainerExec } from '../src/executor/container-exec.ts';
import { CompileContainerRoles } from '../src/maintenance/container-roles.ts';
import {
  type RefreshPortageTreeOptions,
  refreshPortageTree,
} from '../src/maintenance/portage-tree-refresh.ts';
import type { TreeSyncLogLine } from '../src/maintenance/tree-sync-container.ts';
import { useDockerTestFile } from './support/docker-test-file.ts';
import { containersLabelled, standinCalls, TEST_RUN_LABEL } from './support/executor-docker.ts';

let docker: Docker;
let image: string;
let root: string;
const runId = useDockerTestFile('maintenance-refresh-', (env) => ({ docker, image, scratch: root } = env));
let treeSeq = 0;

function newTreeDir(): string {
  return join(root, `host-${++treeSeq}`, 'portage');
}

function refresh(
  treeDir: string,
  options: Partial<RefreshPortageTreeOptions> = {},
): ReturnType<typeof refreshPortageTree> {
  return refreshPortageTree({
    docker,
    image,
    treeDir,
    signal: AbortSignal.timeout(60_000),
    labels: { [TEST_RUN_LABEL]: runId },
    networkMode: 'none',
    ...options,
  });
}

/** This run's sync containers, running or not: none must survive a refresh. */
async function syncContainers(): Promise<Docker.ContainerInfo[]> {
  const mine = await containersLabelled(docker, TEST_RUN_LABEL, runId);
  return mine.filter((c) => c.Labels[BuildLabels.role] === CompileContainerRoles.sync);
}

/** Staging directories left in the tree's generations directory. */
async function stagingLeft(treeDir: string): Promise<string[]> {
  return (await readdir(`${treeDir}.trees`)).filter((name) => name.startsWith('.staging-'));
}

/** A container like a build's: the tree bind-mounted read-only at /var/db/repos/gentoo, idling. */
async function startTreeReader(treeDir: string): Promise<Docker.Container> {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: ['sleep', 'infinity'],
    Cmd: [],
    Labels: { [TEST_RUN_LABEL]: runId },
    HostConfig: {
      Init: true,
      NetworkMode: 'none',
      Mounts: [{ Type: 'bind', Source: treeDir, Target: '/var/db/repos/gentoo', ReadOnly: true }],
    },
  });
  await container.start();
  return container;
}

async function readInContainer(container: Docker.Container, path: string): Promise<string> {
  let out = '';
  const code = await runContainerExec(container, ['cat', path], {}, (_stream, chunk) => {
    out += Buffer.from(chunk).toString('utf8');
  });
  expect(code, out).toBe(0);
  return out.trim();
}

describe('refreshPortageTree', () => {
  it('runs emerge --sync as argv in a fresh container and swaps the synced tree in; the container is removed', async () => {
    const treeDir = newTreeDir();
    const lines: TreeSyncLogLine[] = [];

    const report = await refresh(treeDir, { onLog: (line) => lines.push(line) });

    expect(report).toMatchObject({ ok: true, exitCode: 0, timedOut: false, removedGenerations: [] });
    expect(report.timestamp).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(await readFile(join(treeDir, 'metadata/timestamp.chk'), 'utf8')).toBe(`${report.timestamp}\n`);
    expect(await readFile(join(treeDir, 'metadata/standin-sync-count'), 'utf8')).toBe('1\n');
    expect(await readdir(`${treeDir}.trees`)).toEqual([report.generation]);
    const calls = standinCalls(lines.map((l) => l.line));
    expect(calls.map((c) => c.argv)).toEqual([['--sync']]);
    expect(Object.keys(calls[0]?.env ?? {}).sort()).toEqual(['HOME', 'HOSTNAME', 'PATH']);
    expect(lines).toContainEqual({
      stream: 'stdout',
      line: ">>> Syncing repository 'gentoo' into '/var/db/repos/gentoo'...",
    });
    expect(lines).toContainEqual({ stream: 'stdout', line: '=== Sync completed for gentoo' });
    expect(await syncContainers()).toEqual([]);
  });

  it('a build started before a refresh keeps the tree it mounted; one started after gets the new tree', async () => {
    const treeDir = newTreeDir();
    const first = await refresh(treeDir);
    const before = await startTreeReader(treeDir);

    const second = await refresh(treeDir);
    const after = await startTreeReader(treeDir);

    expect(second.ok).toBe(true);
    expect(second.generation).not.toBe(first.generation);
    expect(await readInContainer(before, '/var/db/repos/gentoo/metadata/standin-sync-count')).toBe('1');
    expect(await readInContainer(after, '/var/db/repos/gentoo/metadata/standin-sync-count')).toBe('2');
    // The replaced tree stays for the build still on it (retired less than keepRetiredMs ago).
    expect((await readdir(`${treeDir}.trees`)).sort()).toEqual([first.generation, second.generation].sort());
    await Promise.all([before.remove({ force: true }), after.remove({ force: true })]);
  });

  it('deletes a replaced tree once it has been retired for keepRetiredMs', async () => {
    const treeDir = newTreeDir();
    const first = await refresh(treeDir);

    const second = await refresh(treeDir, { keepRetiredMs: 0 });

    expect(second.removedGenerations).toEqual([first.generation]);
    expect(await readdir(`${treeDir}.trees`)).toEqual([second.generation]);
  });

  it('a failing sync leaves the live tree as it was and reports ok: false with the exit code', async () => {
    const treeDir = newTreeDir();
    const first = await refresh(treeDir);
    await writeFile(join(treeDir, '.standin-sync-fail'), '');
    const lines: TreeSyncLogLine[] = [];

    const report = await refresh(treeDir, { onLog: (line) => lines.push(line) });

    expect(report).toMatchObject({
      ok: false,
      exitCode: 1,
      timedOut: false,
      generation: first.generation,
      timestamp: first.timestamp,
    });
    expect(lines).toContainEqual({ stream: 'stderr', line: "!!! Failed to sync repository 'gentoo'" });
    // The stand-in wrote a half-synced file into its copy before failing: never seen live.
    expect(await readdir(join(treeDir, 'metadata'))).not.toContain('standin-half-synced');
    expect(await readFile(join(treeDir, 'metadata/standin-sync-count'), 'utf8')).toBe('1\n');
    expect(await stagingLeft(treeDir)).toEqual([]);
    expect(await syncContainers()).toEqual([]);
  });

  it('abort mid-sync removes the container, discards the staging copy and rejects AbortedError', async () => {
    const treeDir = newTreeDir();
    const first = await refresh(treeDir);
    await writeFile(join(treeDir, '.standin-sync-slow'), '');
    const abort = new AbortController();
    let sawSyncRunning = false;

    const settled = await refresh(treeDir, {
      signal: abort.signal,
      onLog: ({ line }) => {
        if (line.startsWith('>>> standin: syncing, step')) {
          sawSyncRunning = true;
          abort.abort();
        }
      },
    }).catch((err: unknown) => err);

    expect(sawSyncRunning).toBe(true);
    expect(settled).toBeInstanceOf(AbortedError);
    expect(await syncContainers()).toEqual([]);
    expect(await stagingLeft(treeDir)).toEqual([]);
    expect(await readdir(`${treeDir}.trees`)).toEqual([first.generation]);
    expect(await readFile(join(treeDir, 'metadata/standin-sync-count'), 'utf8')).toBe('1\n');
  });

  it('kills a sync that runs past timeoutMs: ok: false, timedOut, the old tree kept, the container removed', async () => {
    const treeDir = newTreeDir();
    const first = await refresh(treeDir);
    await writeFile(join(treeDir, '.standin-sync-slow'), '');
    const lines: string[] = [];

    const report = await refresh(treeDir, { timeoutMs: 1500, onLog: ({ line }) => lines.push(line) });

    expect(report).toMatchObject({ ok: false, exitCode: null, timedOut: true, generation: first.generation });
    expect(lines.some((l) => l.startsWith('>>> standin: syncing, step'))).toBe(true);
    expect(await syncContainers()).toEqual([]);
    expect(await stagingLeft(treeDir)).toEqual([]);
  });

  it('throws BuildEngineError when the image is missing and cannot be pulled, leaving no staging copy', async () => {
    const treeDir = newTreeDir();

    const err = await refresh(treeDir, { image: '127.0.0.1:9/spotjobs-missing:1' }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(BuildEngineError);
    expect((err as BuildEngineError).message).toContain('pulling image 127.0.0.1:9/spotjobs-missing:1');
    expect(await readdir(root)).not.toContain(`host-${treeSeq}`);
  });

  it('validates its options before touching anything', async () => {
    const treeDir = newTreeDir();

    await expect(refresh(treeDir, { mountPath: 'var/db/repos/gentoo' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(refresh(treeDir, { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
    await expect(refresh('relative/tree')).rejects.toBeInstanceOf(ValidationError);
  });
});
