// A second request-API server as its own process: the deployable (`src/api-main.ts`) on a data
// dir another server already uses, as two API processes on one host would share it.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { BENCH_API_KEY } from './bench-server.ts';

const API_MAIN = new URL('../src/api-main.ts', import.meta.url).pathname;

/** A running `spotjobs-compile-api` process. */
export interface ApiProcess {
  /** `http://127.0.0.1:<port>` as the process announced it. */
  readonly origin: string;
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/**
 * Starts `node src/api-main.ts` on the embedded default in `dataDir`, on a free loopback port,
 * accepting `BENCH_API_KEY`; resolves once it logged that it is ready.
 *
 * @example
 * ```ts
 * const second = await startApiProcess(bench.config.local.dataDir, signal);
 * await fetch(`${second.origin}/v1/builds/${id}`);
 * await second.stop();
 * ```
 */
export async function startApiProcess(dataDir: string, signal: AbortSignal): Promise<ApiProcess> {
  const child = spawn(process.execPath, [API_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      SPOTJOBS_COMPILE_BACKEND: 'local',
      SPOTJOBS_COMPILE_DATA_DIR: dataDir,
      SPOTJOBS_COMPILE_API_KEYS: BENCH_API_KEY,
      SPOTJOBS_COMPILE_PORT: '0',
      SPOTJOBS_COMPILE_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const origin = await readyUrl(child, signal);
    return { origin, stop: () => stopChild(child) };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

/** The `url` of the deployable's `spotjobs-compile-api ready` log line (pino JSON on stdout). */
async function readyUrl(child: ChildProcess, signal: AbortSignal): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit', { signal }).then(([code]) => {
    throw new Error(`spotjobs-compile-api exited with code ${code} before it was ready`);
  });
  exited.catch(() => {}); // read by the race below only; a later exit is stop()'s business
  const ready = (async () => {
    for await (const line of lines) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'spotjobs-compile-api ready' && entry.url) return entry.url;
    }
    throw new Error('spotjobs-compile-api closed its output before it was ready');
  })();
  try {
    return await Promise.race([ready, exited]);
  } finally {
    // Keep draining its output, so the process never blocks on a full pipe.
    child.stdout?.resume();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
