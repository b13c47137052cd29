// Docker test infrastructure for the build executor: an engine that answers (started by
// scripts/ensure-docker.sh when absent), the locally imported builder test image, the emerge
// stand-in's records, and clean-up of everything a test run labelled.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import type { BuildLogLine } from '../../src/executor/build-executor.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** The emerge and portageq stand-ins, for the process executor on this host. */
export const standinEmerge = fileURLToPath(new URL('../../builder-image/standin/emerge', import.meta.url));

/** The label every container and volume of one test file carries, so clean-up finds them all. */
export const TEST_RUN_LABEL = 'spotjobs.test-run';

/**
 * Makes sure a Docker Engine answers (installing and starting one if needed: quick when it
 * already runs), then builds the test image (a no-op when its content tag exists). Fails the
 * test run with the script's words when no engine can be had: these tests are never skipped.
 */
export async function prepareDocker(): Promise<{ docker: Docker; image: string }> {
  try {
    await run('bash', [`${repoRoot}scripts/ensure-docker.sh`], { timeout: 300_000 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`no Docker Engine for the executor tests (scripts/ensure-docker.sh):\n${stderr}`, {
      cause: err,
    });
  }
  const { stdout } = await run(
    'bash',
    [`${repoRoot}packages/compile-worker/builder-image/build-test-image.sh`],
    {
      timeout: 120_000,
    },
  );
  return { docker: new Docker(), image: stdout.trim() };
}

/** A fresh id for one test file's containers and volumes. */
export function newTestRunId(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/** Force-removes every container, then every volume, labelled with this test run. */
export async function removeTestRun(docker: Docker, runId: string): Promise<void> {
  const filters = JSON.stringify({ label: [`${TEST_RUN_LABEL}=${runId}`] });
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => {}),
    ),
  );
  const { Volumes } = await docker.listVolumes({ filters });
  await Promise.all(
    (Volumes ?? []).map((v) =>
      docker
        .getVolume(v.Name)
        .remove()
        .catch(() => {}),
    ),
  );
}

/** Containers (running or not) that carry `label=value`: what a test asserts is empty after a build. */
export async function containersLabelled(
  docker: Docker,
  label: string,
  value: string,
): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${label}=${value}`] }) });
}

/** What one emerge stand-in call received: its arguments (without argv[0]) and its whole environment. */
export interface StandinCall {
  readonly argv: string[];
  readonly env: Record<string, string>;
}

/** Decodes the stand-in's `standin-record argv=… environ=…` lines, in call order. */
export function standinCalls(lines: readonly string[]): StandinCall[] {
  const calls: StandinCall[] = [];
  for (const line of lines) {
    const match = /^standin-record argv=(\S*) environ=(\S*)$/.exec(line);
    if (!match) continue;
    const fields = (b64: string) => {
      const parts = Buffer.from(b64, 'base64').toString('utf8').split('\0');
      parts.pop(); // every field ends with NUL
      return parts;
    };
    const env: Record<string, string> = {};
    for (const pair of fields(match[2] ?? '')) {
      const eq = pair.indexOf('=');
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    calls.push({ argv: fields(match[1] ?? ''), env });
  }
  return calls;
}

/** Collects `onLog` lines and lets a test wait for one. */
export class LogWatcher {
  readonly lines: BuildLogLine[] = [];
  readonly #waiters: { test: (line: BuildLogLine) => boolean; resolve: () => void }[] = [];

  readonly onLog = (line: BuildLogLine): void => {
    this.lines.push(line);
    for (const waiter of [...this.#waiters]) {
      if (waiter.test(line)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };

  /** Resolves at the first line (past or future) that passes `test`. */
  waitFor(test: (line: BuildLogLine) => boolean): Promise<void> {
    if (this.lines.some(test)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  text(): string[] {
    return this.lines.map((l) => l.line);
  }
}
