import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { onTestFinished } from 'vitest';

/**
 * Runs `script` in a Node child that reports by printing one JSON object a line on stdout
 * (stderr passes through), and kills it with SIGKILL when the test finishes if it is still
 * running. `lines` fills as the child prints.
 *
 * @example
 * ```ts
 * const c = startJsonLinesChild<{ step: string }>(fixture, { SPOTJOBS_X: '1' });
 * await vi.waitFor(() => expect(c.lines.map((l) => l.step)).toContain('ready'));
 * c.proc.kill('SIGTERM');
 * expect(await c.exited).toEqual([0, null]);
 * ```
 */
export function startJsonLinesChild<Line>(script: string, env: Record<string, string> = {}) {
  const proc: ChildProcess = spawn(process.execPath, [script], {
    env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  onTestFinished(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const lines: Line[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => lines.push(JSON.parse(line) as Line));
  return { proc, lines, exited };
}
