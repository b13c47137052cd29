import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { BuildEngineError } from './build-engine-error.ts';
import type { BuildImage } from './build-executor.ts';
import type { BuildStep } from './build-steps.ts';
import type { BuildSandbox } from './run-build.ts';

/** What `ProcessBuildExecutor` reports as the image of a build: the host itself. */
export const HOST_IMAGE: BuildImage = Object.freeze({ id: 'host', repoDigests: Object.freeze([]) });

export interface ProcessSandboxSettings {
  /** Path (or name on PATH) of the binary run for `argv[0] === 'emerge'`. */
  readonly emerge: string;
  /** The whole environment of a step, before the step's own variables are added. */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** Between SIGTERM and SIGKILL on stop. */
  readonly stopGraceMs: number;
}

/**
 * One build's steps as child processes of this one, each in its own process group (emerge
 * starts many), with the `--buildpkgonly` output in `outputDir` (in the job's work directory).
 */
export class ProcessSandbox implements BuildSandbox {
  readonly outputPkgdir: string;
  readonly image = HOST_IMAGE;
  readonly #settings: ProcessSandboxSettings;
  readonly #jobDir: string;
  readonly #running = new Set<ChildProcess>();

  constructor(jobDir: string, outputDir: string, settings: ProcessSandboxSettings) {
    this.#jobDir = jobDir;
    this.outputPkgdir = outputDir;
    this.#settings = settings;
  }

  run(
    step: BuildStep,
    output: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void,
  ): Promise<number | null> {
    const [command = '', ...args] = step.argv;
    const file = command === 'emerge' ? this.#settings.emerge : command;
    // detached: a process group of its own, so kill() reaches every process emerge started.
    const child = spawn(file, args, {
      cwd: this.#jobDir,
      env: { ...this.#settings.baseEnv, ...step.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.#running.add(child);
    child.stdout?.on('data', (chunk: Buffer) => output('stdout', chunk));
    child.stderr?.on('data', (chunk: Buffer) => output('stderr', chunk));
    return new Promise((resolve, reject) => {
      child.once('error', (err) => {
        this.#running.delete(child);
        reject(new BuildEngineError('process', `starting ${file}: ${err.message}`, { cause: err }));
      });
      // 'close', not 'exit': the output pipes have drained too.
      child.once('close', (code) => {
        this.#running.delete(child);
        resolve(code);
      });
    });
  }

  async kill(): Promise<void> {
    await this.#signalAll('SIGKILL');
  }

  async stop(): Promise<void> {
    const done = this.#signalAll('SIGTERM');
    const timer = setTimeout(() => void this.#signalAll('SIGKILL'), this.#settings.stopGraceMs);
    try {
      await done;
    } finally {
      clearTimeout(timer);
    }
  }

  async dispose(): Promise<void> {
    await this.kill();
  }

  // Signals every running step's process group; resolves once they have all closed.
  async #signalAll(signal: NodeJS.Signals): Promise<void> {
    const closing: Promise<unknown>[] = [];
    for (const child of this.#running) {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
      closing.push(once(child, 'close'));
      try {
        process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    }
    await Promise.all(closing);
  }
}
