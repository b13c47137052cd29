// `spotjobs-compile-worker` (src/worker-main.ts) as a real process on the embedded default, next
// to a request API on the same data directory: the fallback to host processes when no Docker
// Engine answers (said loudly), a build served end to end, SIGTERM during a build (stopped,
// given back, exit 0), and a bad setting (exit 78, every problem named).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type JsonLogProcess, startJsonLogProcess } from '@spotjobs/core/testing';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { UNPINNED_IMAGE } from '../src/build/builder-profile.ts';
import { EXIT_BAD_CONFIG } from '../src/config.ts';
import { startLocalCompileServer } from '../src/local/local-compile.ts';
import { standinEmerge } from './support/executor-docker.ts';
import { tempDir, tempStore } from './support/local-builds.ts';

const workerMain = fileURLToPath(new URL('../src/worker-main.ts', import.meta.url));
const API_KEY = 'process-test-key-0123456789';
const profile = { imageDigest: UNPINNED_IMAGE, arch: 'amd64', makeConfProfile: 'pacloud-2018' };

function startWorker(env: Record<string, string>): JsonLogProcess {
  return startJsonLogProcess(workerMain, env);
}

/** A request API and a worker process sharing one temp data directory. */
async function farm(extraEnv: Record<string, string> = {}) {
  const store = await tempStore();
  const server = await startLocalCompileServer({ store, profile, apiKeys: [API_KEY] });
  onTestFinished(() => server.close());
  const scratch = await tempDir();
  const env = {
    SPOTJOBS_COMPILE_DATA_DIR: store.dataDir,
    SPOTJOBS_COMPILE_CACHE_DIR: join(scratch, 'binpkgs'),
    SPOTJOBS_COMPILE_WORK_DIR: join(scratch, 'builds'),
    SPOTJOBS_SLEEP_SOCKET: join(scratch, 'sleep.sock'),
    SPOTJOBS_COMPILE_HEALTH_PORT: '0',
    SPOTJOBS_COMPILE_EMERGE: standinEmerge,
    // No engine here: `auto` must fall back to host processes.
    DOCKER_HOST: `unix://${join(scratch, 'no-docker.sock')}`,
    ...extraEnv,
  };
  const worker = startWorker(env);
  await vi.waitFor(
    () => expect(worker.lines.some((l) => l.msg === 'spotjobs-compile-worker running')).toBe(true),
    {
      timeout: 30_000,
      interval: 50,
    },
  );
  const submit = async (atom: string, use: string[] = []) => {
    const response = await fetch(`${server.url}/v1/builds`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ atom, use }),
    });
    expect(response.status).toBeLessThan(300);
    return ((await response.json()) as { id: string }).id;
  };
  return { server, worker, env, submit };
}

describe('spotjobs-compile-worker process', () => {
  it('falls back to host processes loudly, builds a request end to end, and exits 0 on SIGTERM', async () => {
    const { server, worker, submit } = await farm();
    expect(worker.lines.find((l) => /HOST PROCESSES/.test(String(l.msg)))).toMatchObject({ level: 40 });
    expect(worker.lines.find((l) => l.msg === 'spotjobs-compile-worker running')).toMatchObject({
      executor: 'process',
      concurrency: 1,
      backend: 'local',
    });

    const id = await submit('app-misc/hello-2.12', ['nls', '-test']);
    await vi.waitFor(async () => expect((await server.builds.get(id))?.state).toBe('ready'), {
      timeout: 60_000,
      interval: 100,
    });
    const link = (await (await fetch(`${server.url}/v1/builds/${id}/artifact`)).json()) as {
      url: string;
      sha256: string;
    };
    const bytes = Buffer.from(await (await fetch(link.url)).arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(link.sha256);
    // The build's own lines went to the daemon's log, with the build they belong to.
    expect(worker.lines.some((l) => l.buildId === id && /standin: wrote/.test(String(l.msg)))).toBe(true);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual([0, null]);
    expect(worker.lines.at(-1)).toMatchObject({ msg: 'spotjobs-compile-worker stopped' });
  }, 120_000);

  it('on SIGTERM during a build stops it, gives it back, and exits 0', async () => {
    const { server, worker, submit } = await farm({ SPOTJOBS_COMPILE_SHUTDOWN_GRACE_SECONDS: '0' });
    const id = await submit('app-misc/slow-build-1.0');
    await vi.waitFor(
      () => expect(worker.lines.some((l) => /compiling, step 2/.test(String(l.msg)))).toBe(true),
      { timeout: 60_000, interval: 50 },
    );
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual([0, null]);
    const record = await server.builds.get(id);
    expect(record).toMatchObject({ state: 'queued', workerId: null });
    expect(record?.history.at(-1)).toMatchObject({ outcome: 'released' });
    // The stand-in's process is gone with the build.
    const pid = Number(
      /pid (\d+)/.exec(String(worker.lines.findLast((l) => /pid \d+/.test(String(l.msg)))?.msg))?.[1],
    );
    expect(() => process.kill(pid, 0)).toThrow();
  }, 120_000);

  it('refuses bad settings with exit code 78 and names each one', async () => {
    const worker = startWorker({
      SPOTJOBS_COMPILE_CONCURRENCY: 'many',
      SPOTJOBS_COMPILE_BACKEND: 'aws',
    });
    expect(await worker.exited).toEqual([EXIT_BAD_CONFIG, null]);
    expect(worker.stderr()).toMatch(/invalid compile-worker configuration/);
    for (const name of [
      'SPOTJOBS_COMPILE_CONCURRENCY',
      'SPOTJOBS_COMPILE_QUEUE_URL',
      'SPOTJOBS_COMPILE_BUCKET',
    ])
      expect(worker.stderr()).toContain(name);
  });
});
