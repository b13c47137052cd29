import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { onTestFinished } from 'vitest';

/** A daemon started by a test, with its JSON log lines (pino) parsed as they arrive. */
export interface JsonLogProcess {
  readonly child: ChildProcess;
  /** Every stdout line so far, parsed; a line that is not JSON arrives as `{ msg: line }`. */
  readonly lines: Record<string, unknown>[];
  /** All of stderr so far. */
  stderr(): string;
  /** Settles with the exit code and signal. */
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/** How `startJsonLogProgram` runs a program. */
export interface JsonLogProgramOptions {
  /** PATH of the child; default this process's. */
  readonly path?: string;
  /**
   * When the test ends with the program still running: SIGTERM, then SIGKILL after this many
   * ms (a daemon that must clean up, e.g. remove its containers). Default: SIGKILL at once.
   */
  readonly stopGraceMs?: number;
}

/**
 * Starts `node <script>` with only `env` (plus PATH) and collects its JSON log lines; the
 * process is killed (SIGKILL) after the current test if it still runs.
 *
 * @example
 * ```ts
 * const daemon = startJsonLogProcess(mainScript, { SPOTJOBS_PORT: '0' });
 * await vi.waitFor(() => expect(daemon.lines.some((l) => l.msg === 'listening')).toBe(true));
 * daemon.child.kill('SIGTERM');
 * expect(await daemon.exited).toEqual([0, null]);
 * ```
 */
export function startJsonLogProcess(script: string, env: Record<string, string>): JsonLogProcess {
  return startJsonLogProgram(process.execPath, [script], { NODE_NO_WARNINGS: '1', ...env });
}

/**
 * Starts any executable (a launcher script, a packaged binary) with only `env` (plus PATH) and
 * collects its JSON log lines, as `startJsonLogProcess` does for a Node script.
 *
 * @example
 * ```ts
 * const worker = startJsonLogProgram('/opt/spotjobs/bin/spotjobs-compile-worker', [], env, { stopGraceMs: 20_000 });
 * ```
 */
export function startJsonLogProgram(
  file: string,
  args: readonly string[],
  env: Record<string, string>,
  options: JsonLogProgramOptions = {},
): JsonLogProcess {
  const child = spawn(file, args, {
    env: { PATH: options.path ?? process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  onTestFinished(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (options.stopGraceMs === undefined) {
      child.kill('SIGKILL');
      return;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.stopGraceMs);
    await exited;
    clearTimeout(timer);
  });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ msg: line });
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { child, lines, stderr: () => stderr, exited };
}
