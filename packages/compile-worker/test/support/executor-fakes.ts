// Fakes for the executor's unit tests: a build sandbox whose steps' exit codes, output and
// binary packages a test scripts.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BuildImage, BuildStepName } from '../../src/executor/build-executor.ts';
import type { BuildStep } from '../../src/executor/build-steps.ts';
import type { BuildSandbox, SandboxContext } from '../../src/executor/run-build.ts';

export interface FakeStepScript {
  /** Exit code; `'hang'` keeps the step running until kill (resolves null) or stop (resolves 143). */
  readonly exit: number | null | 'hang';
  readonly stdout?: string;
  readonly stderr?: string;
}

/** A file the fake package step writes into its output directory: `path` is relative to it. */
export interface FakeBinpkg {
  readonly path: string;
  readonly content: Buffer;
}

export const FAKE_IMAGE: BuildImage = { id: 'sha256:fake', repoDigests: ['fake/builder@sha256:0123'] };

/**
 * A sandbox that runs nothing: each step does what its script says, and a package step that
 * exits 0 writes `binpkgs` into the build's output directory (known once `open` is called).
 */
export class FakeSandbox implements BuildSandbox {
  readonly outputPkgdir = '/fake/out';
  readonly image = FAKE_IMAGE;
  readonly steps: BuildStep[] = [];
  /** `kill`, `stop`, `dispose`, in call order. */
  readonly calls: string[] = [];
  /** Whether `dispose` has finished. */
  disposed = false;
  readonly #scripts: Partial<Record<BuildStepName, FakeStepScript>>;
  readonly #binpkgs: readonly FakeBinpkg[];
  readonly #disposing = Promise.withResolvers<void>();
  #outputDir: string | undefined;
  #hanging: ((code: number | null) => void) | undefined;
  #onRun: ((step: BuildStep) => void) | undefined;

  constructor(
    scripts: Partial<Record<BuildStepName, FakeStepScript>> = {},
    binpkgs: readonly FakeBinpkg[] = [{ path: 'app-misc/x-1.0.tbz2', content: Buffer.from('BZh91AY') }],
    options: { readonly holdDispose?: boolean } = {},
  ) {
    this.#scripts = scripts;
    this.#binpkgs = binpkgs;
    if (!options.holdDispose) this.#disposing.resolve();
  }

  /** What `openSandbox` returns: this sandbox, now writing into the build's output directory. */
  open(context: SandboxContext): this {
    this.#outputDir = context.outputDir;
    return this;
  }

  /** Lets a `holdDispose` sandbox's dispose finish. */
  finishDispose(): void {
    this.#disposing.resolve();
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

  async run(
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
    if (step.name === 'package' && script.exit === 0 && this.#outputDir) {
      for (const pkg of this.#binpkgs) {
        const path = join(this.#outputDir, pkg.path);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, pkg.content);
      }
    }
    return script.exit;
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
    await this.#disposing.promise;
    this.disposed = true;
  }
}
