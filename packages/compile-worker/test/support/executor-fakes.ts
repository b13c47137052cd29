// Fakes for the executor's unit tests: a build sandbox whose steps' exit codes, output and
// binary packages a test scripts.
import { Readable } from 'node:stream';
import type { BuildStepName } from '../../src/executor/build-executor.ts';
import type { BuildStep } from '../../src/executor/build-steps.ts';
import type { BuildSandbox } from '../../src/executor/run-build.ts';

export interface FakeStepScript {
  /** Exit code; `'hang'` keeps the step running until kill (resolves null) or stop (resolves 143). */
  readonly exit: number | null | 'hang';
  readonly stdout?: string;
  readonly stderr?: string;
}

/** A sandbox that runs nothing: each step does what its script says. */
export class FakeSandbox implements BuildSandbox {
  readonly outputPkgdir = '/fake/out';
  readonly steps: BuildStep[] = [];
  /** `kill`, `stop`, `dispose`, in call order. */
  readonly calls: string[] = [];
  readonly #scripts: Partial<Record<BuildStepName, FakeStepScript>>;
  readonly #binpkgs: readonly { readonly fileName: string; readonly content: Buffer }[];
  #hanging: ((code: number | null) => void) | undefined;
  #onRun: ((step: BuildStep) => void) | undefined;

  constructor(
    scripts: Partial<Record<BuildStepName, FakeStepScript>> = {},
    binpkgs: readonly { fileName: string; content: Buffer }[] = [
      { fileName: 'x-1.0.tbz2', content: Buffer.from('BZh91AY') },
    ],
  ) {
    this.#scripts = scripts;
    this.#binpkgs = binpkgs;
  }

  /** Resolves when a step named `name` starts. */
  started(name: BuildStepName): Promise<void> {
    if (this.steps.some((s) => s.name === name)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onRun = (step) => {
        if (step.name === name) resolve();
      };
    });
  }

  run(
    step: BuildStep,
    output: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void,
  ): Promise<number | null> {
    this.steps.push(step);
    this.#onRun?.(step);
    const script = this.#scripts[step.name] ?? { exit: 0 };
    if (script.stdout) output('stdout', Buffer.from(script.stdout));
    if (script.stderr) output('stderr', Buffer.from(script.stderr));
    if (script.exit === 'hang') {
      return new Promise((resolve) => {
        this.#hanging = resolve;
      });
    }
    return Promise.resolve(script.exit);
  }

  async collect(
    _target: unknown,
    write: (source: Readable, fileName: string) => Promise<void>,
  ): Promise<number> {
    for (const pkg of this.#binpkgs) await write(Readable.from([pkg.content]), pkg.fileName);
    return this.#binpkgs.length;
  }

  async kill(): Promise<void> {
    this.calls.push('kill');
    this.#hanging?.(null);
  }

  async stop(): Promise<void> {
    this.calls.push('stop');
    this.#hanging?.(143);
  }

  async dispose(): Promise<void> {
    this.calls.push('dispose');
  }
}
