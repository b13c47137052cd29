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
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
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
