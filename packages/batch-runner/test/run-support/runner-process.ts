import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const RUNNER_MAIN = fileURLToPath(new URL('../../src/runner-main.ts', import.meta.url));
export const RUNNER_BIN = fileURLToPath(new URL('../../bin/spotjobs-batch-runner', import.meta.url));

/** A `spotjobs-batch-runner` process started by a test, with what it printed so far. */
export interface RunnerProcess {
  readonly child: ChildProcess;
  readonly name: string;
  /** Wall-clock ms when it was spawned (comparable with the ISO times of its log lines). */
  readonly spawnedAt: number;
  stdout: string;
  stderr: string;
  /** `at`: wall-clock ms of the exit. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** The runner's JSON log lines (stderr) so far. */
  logs(): Array<Record<string, unknown> & { msg?: string }>;
  /** Resolves once a log line with `msg` appears (rejects if the process exits first). */
  waitForLog(msg: string | RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
}

const started = new Set<RunnerProcess>();

/**
 * Starts the runner as its own process with exactly `env` (plus PATH), so a test controls
 * every variable. Every process, and every process the tests' apps start (they carry
 * `SPOTJOBS_TEST_MARK`), is killed by `killTestProcesses`.
 */
export function startRunner(
  env: Record<string, string>,
  options: { name?: string; command?: string; args?: string[] } = {},
): RunnerProcess {
  const spawnedAt = Date.now();
  const child = spawn(options.command ?? process.execPath, options.args ?? [RUNNER_MAIN], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: RunnerProcess = {
    child,
    name: options.name ?? 'runner',
    spawnedAt,
    stdout: '',
    stderr: '',
    exited: once(child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
      at: Date.now(),
    })),
    logs() {
      return run.stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    async waitForLog(msg, timeoutMs = 60_000) {
      const deadline = performance.now() + timeoutMs;
      let exited = false;
      void run.exited.then(() => {
        exited = true;
      });
      while (performance.now() < deadline) {
        const line = run
          .logs()
          .find((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg))));
        if (line) return line;
        if (exited) throw new Error(`${run.name} exited before logging ${msg}:\n${run.stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`${run.name} did not log ${msg} within ${timeoutMs} ms:\n${run.stderr}`);
    },
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    run.stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    run.stderr += chunk;
  });
  started.add(run);
  return run;
}

/** Kills the runners a test started and every process carrying `mark` in its environment. */
export async function killTestProcesses(mark?: string): Promise<void> {
  for (const run of started)
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  await Promise.all([...started].map((run) => run.exited));
  started.clear();
  if (mark) await killMarked(mark);
}

/** SIGKILLs every process whose environment holds `SPOTJOBS_TEST_MARK=<mark>` (apps a killed runner left behind). */
export async function killMarked(mark: string): Promise<number> {
  const needle = `SPOTJOBS_TEST_MARK=${mark}`;
  let killed = 0;
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    if (!environ.split('\0').includes(needle)) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch {
      // Gone already.
    }
  }
  return killed;
}

/** Whether any process still carries the mark. */
export async function markedAlive(mark: string): Promise<number[]> {
  const needle = `SPOTJOBS_TEST_MARK=${mark}`;
  const alive: number[] = [];
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(needle) && !/\) Z /.test(state)) alive.push(Number(pid));
  }
  return alive;
}

/** A free TCP port on loopback (listen on 0, close). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
