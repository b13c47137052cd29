// The set-up and clean-up of a test file that builds with Docker (vitest hooks: kept apart from
// executor-docker.ts, which benchmarks import outside vitest).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll } from 'vitest';
import { newTestRunId, prepareDocker, removeTestRun } from './executor-docker.ts';

/** What a Docker test file works with, ready from its first test on. */
export interface DockerTestEnv {
  readonly docker: Docker;
  /** The builder test image. */
  readonly image: string;
  /** A temp dir of this file, removed after it. */
  readonly scratch: string;
}

/**
 * Sets a Docker test file up (engine, test image, a scratch dir: `assign` receives them before
 * the first test) and cleans up after its last (every container and volume labelled with the
 * returned run id, the scratch dir).
 *
 * @example
 * ```ts
 * let docker: Docker;
 * let image: string;
 * const runId = useDockerTestFile('executor-', (env) => ({ docker, image } = env));
 * ```
 */
export function useDockerTestFile(scratchPrefix: string, assign: (env: DockerTestEnv) => void): string {
  const runId = newTestRunId();
  let env: DockerTestEnv | undefined;
  beforeAll(async () => {
    const { docker, image } = await prepareDocker();
    env = { docker, image, scratch: await mkdtemp(join(tmpdir(), scratchPrefix)) };
    assign(env);
  }, 360_000);
  afterAll(async () => {
    if (!env) return;
    await removeTestRun(env.docker, runId);
    await rm(env.scratch, { recursive: true, force: true });
  });
  return runId;
}
