import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { Redactor } from '../secrets/redactor.ts';
import { AppLaunchError } from './runner-errors.ts';

/** How the application ended. */
export interface AppExit {
  /** As a shell reports it: the exit status, or 128 + the signal number. */
  readonly exitCode: number;
  readonly signal: NodeJS.Signals | null;
  readonly startedAt: Date;
  readonly endedAt: Date;
}

export interface StartAppOptions {
  /** Program and arguments; never passed through a shell. */
  readonly argv: readonly [string, ...string[]];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Hides secrets in everything the app prints. */
  readonly redactor: Redactor;
  /** Where the app's output is streamed live (the container log). */
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** A file that receives both streams too (uploaded with the outputs). */
  readonly logFile: string;
}

/** A started application. */
export interface RunningApp {
  readonly pid: number;
  /** Resolves once the app has exited and its output is flushed. */
  readonly exited: Promise<AppExit>;
  /** Sends `signal` to the app's whole process group (an `mpirun` and its ranks, a script and its children). */
  signal(signal: NodeJS.Signals): void;
  /**
   * SIGTERM to the group, then SIGKILL once `graceMs` passed; resolves with how it ended.
   */
  terminate(graceMs: number): Promise<AppExit>;
}

// How long output may keep flowing after the app exits (a background child still holding the
// pipe must not keep the run open).
const OUTPUT_DRAIN_MS = 2000;

/**
 * Starts the application in its own process group, with no shell and no stdin, streaming its
 * stdout and stderr (secrets redacted) to the container log and to `logFile`.
 * Rejects with `AppLaunchError` (exit 127/126) when the program cannot be started.
 *
 * @example
 * ```ts
 * const app = await startApp({ argv: ['/opt/simest', input, outputDir], env, cwd: outputDir, redactor, stdout: process.stdout, stderr: process.stderr, logFile });
 * const { exitCode } = await app.exited;
 * ```
 */
export async function startApp(options: StartAppOptions): Promise<RunningApp> {
  const [program, ...args] = options.argv;
  const log = createWriteStream(options.logFile, { flags: 'a', mode: 0o644 });
  const child = spawn(program, args, {
    cwd: options.cwd,
    env: { ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so signals reach every process it starts
  });
  try {
    await Promise.race([
      once(child, 'spawn'),
      once(child, 'error').then(([err]) => {
        throw err;
      }),
    ]);
  } catch (err) {
    log.end();
    throw new AppLaunchError(program, (err as NodeJS.ErrnoException).code, { cause: err });
  }
  const startedAt = new Date();
  const pid = child.pid!;
  let logOpen = true;
  const pump = (from: Readable, to: Writable) => {
    const redacted = from.pipe(options.redactor.stream());
    redacted.on('data', (chunk: string | Buffer) => {
      to.write(chunk);
      if (logOpen) log.write(chunk);
    });
    return once(redacted, 'end').catch(() => undefined);
  };
  const drained = Promise.all([pump(child.stdout!, options.stdout), pump(child.stderr!, options.stderr)]);
  const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

  const exited = (async (): Promise<AppExit> => {
    const [code, signal] = await exit;
    const endedAt = new Date();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((r) => (timer = setTimeout(r, OUTPUT_DRAIN_MS)))]);
    clearTimeout(timer);
    child.stdout?.destroy();
    child.stderr?.destroy();
    logOpen = false;
    await new Promise<void>((resolve) => log.end(resolve));
    const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
    return { exitCode, signal, startedAt, endedAt };
  })();

  const sendToGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone already.
    }
  };
  let exitedYet = false;
  void exited.then(() => {
    exitedYet = true;
  });
  return {
    pid,
    exited,
    signal: sendToGroup,
    async terminate(graceMs) {
      if (!exitedYet) sendToGroup('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          sendToGroup('SIGKILL');
          resolve();
        }, graceMs);
      });
      await Promise.race([exit, killed]);
      clearTimeout(timer);
      const result = await exited;
      // Whatever the app left behind in its group goes too: the run is over.
      sendToGroup('SIGKILL');
      return result;
    },
  };
}
