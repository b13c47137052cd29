import { rm, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Logger } from '@spotjobs/core';
import type { NodeIdentity, NodeIdentitySources } from '../multinode/node-identity.ts';
import type { RunnerConfig } from '../runner-config.ts';
import { Redactor } from '../secrets/redactor.ts';
import { resolveSecrets, type SecretResolver } from '../secrets/secret-resolver.ts';
import { type BlobStoreForBucket, stageInputs } from '../staging/stage-inputs.ts';
import { uploadOutputs } from '../staging/upload-outputs.ts';
import { type AppExit, startApp } from './app-process.ts';
import { RunnerExitCodes } from './exit-codes.ts';
import { prepareWorkspace, RunFiles, type RunWorkspace } from './run-workspace.ts';
import { RunnerError, StorageError } from './runner-errors.ts';
import { formatTimeLog } from './time-log.ts';

/** What a run needs from outside: ports, streams and the termination signal. */
export interface RunDeps {
  readonly logger: Logger;
  /** S3 access per bucket; `undefined` when the run touches no S3 (no inputs, no output URI). */
  readonly blobsFor: BlobStoreForBucket | undefined;
  readonly secretResolver: SecretResolver;
  /** Aborts on SIGTERM (Batch termination, job timeout): the run winds down and uploads. */
  readonly terminated: AbortSignal;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly identitySources?: NodeIdentitySources;
}

/** How a run (or a node's part in it) ended, before uploading. */
export interface RunOutcome {
  readonly exitCode: number;
  readonly status: string;
  readonly app?: AppExit;
  readonly command: readonly string[];
}

/**
 * One run on one node, from resolved secrets to uploaded outputs: the steps single, main and
 * child nodes share. `open` resolves the secrets and lays out the workspace; `finish` writes
 * `time.log` and uploads the output folder, and returns the exit code.
 *
 * @example
 * ```ts
 * const session = await RunSession.open(config, deps);
 * const inputFile = await session.stage();
 * const outcome = await session.runApp(argv, env);
 * process.exitCode = await session.finish(outcome);
 * ```
 */
export class RunSession {
  readonly config: RunnerConfig;
  readonly deps: RunDeps;
  readonly workspace: RunWorkspace;
  readonly redactor: Redactor;
  readonly secretValues: ReadonlyMap<string, string>;
  /** The rendezvous secret's value, when one is configured. */
  readonly rendezvousSecret: string | undefined;
  readonly logger: Logger;
  readonly startedAt = new Date();
  identity: NodeIdentity | undefined;

  private constructor(
    config: RunnerConfig,
    deps: RunDeps,
    workspace: RunWorkspace,
    secretValues: ReadonlyMap<string, string>,
    rendezvousSecret: string | undefined,
  ) {
    this.config = config;
    this.deps = deps;
    this.workspace = workspace;
    this.secretValues = secretValues;
    this.rendezvousSecret = rendezvousSecret;
    this.redactor = new Redactor([...secretValues.values(), ...(rendezvousSecret ? [rendezvousSecret] : [])]);
    this.logger = deps.logger;
  }

  static async open(config: RunnerConfig, deps: RunDeps): Promise<RunSession> {
    const references = new Map(config.secrets);
    if (config.rendezvous.secret) references.set('SPOTJOBS_RENDEZVOUS_SECRET', config.rendezvous.secret);
    const resolved = await resolveSecrets(references, deps.secretResolver, deps.terminated);
    const rendezvousSecret = resolved.get('SPOTJOBS_RENDEZVOUS_SECRET');
    resolved.delete('SPOTJOBS_RENDEZVOUS_SECRET');
    if (resolved.size > 0)
      deps.logger.info({ secrets: [...resolved.keys()] }, 'secrets resolved into the app environment');
    const workspace = await prepareWorkspace(config);
    return new RunSession(config, deps, workspace, resolved, rendezvousSecret);
  }

  /** Copies the S3 inputs into the workspace; returns the trigger object's path (or INPUT_FILE_PATH). */
  async stage(): Promise<string | undefined> {
    const plan = this.config.inputs;
    if (!plan) return this.config.inputFilePath;
    const staged = await stageInputs(
      plan,
      this.workspace.inputDir,
      this.#blobs(),
      this.logger,
      this.deps.terminated,
    );
    return staged.inputFile;
  }

  /**
   * Runs the app to its end. On SIGTERM it forwards the signal to the app's process group and
   * gives it `termination.graceMs` before SIGKILL; the outcome then carries the termination
   * exit code.
   */
  async runApp(argv: [string, ...string[]], env: Record<string, string>): Promise<RunOutcome> {
    const command = argv.map((word) => this.redactor.redact(word));
    this.logger.info({ command }, 'starting the app');
    if (this.deps.terminated.aborted) return this.terminatedOutcome(command, 'before the app started');
    let app: Awaited<ReturnType<typeof startApp>>;
    try {
      app = await startApp({
        argv,
        env,
        cwd: this.workspace.outputDir,
        redactor: this.redactor,
        stdout: this.deps.stdout,
        stderr: this.deps.stderr,
        logFile: this.workspace.appLogFile,
      });
    } catch (err) {
      return this.failureOutcome(err, command);
    }
    const onTerm = () => {
      this.logger.warn({ graceMs: this.config.termination.graceMs }, 'SIGTERM: stopping the app');
      void app.terminate(this.config.termination.graceMs);
    };
    this.deps.terminated.addEventListener('abort', onTerm, { once: true });
    const exit = await app.exited;
    this.deps.terminated.removeEventListener('abort', onTerm);
    const seconds = (exit.endedAt.getTime() - exit.startedAt.getTime()) / 1000;
    this.logger.info({ exitCode: exit.exitCode, signal: exit.signal, seconds }, 'the app exited');
    if (this.deps.terminated.aborted)
      return { ...this.terminatedOutcome(command, `app exit ${exit.exitCode}`), app: exit };
    return { exitCode: exit.exitCode, status: 'completed', app: exit, command };
  }

  /** The outcome for a run cut short by SIGTERM. */
  terminatedOutcome(command: readonly string[], detail: string): RunOutcome {
    return {
      exitCode: this.config.termination.exitCode,
      status: `terminated by SIGTERM (${detail})`,
      command,
    };
  }

  /** Maps a failure around the app to its outcome (exit code and a status line). */
  failureOutcome(err: unknown, command: readonly string[] = []): RunOutcome {
    // Whatever failed while SIGTERM was winding the run down (an aborted download, poll or
    // wait) failed because of it.
    if (this.deps.terminated.aborted) return this.terminatedOutcome(command, 'before the app ended');
    const message = this.redactor.redact(err instanceof Error ? err.message : String(err));
    if (err instanceof RunnerError) {
      this.logger.error({ code: err.code, exitCode: err.exitCode }, message);
      return { exitCode: err.exitCode, status: `failed: ${message}`, command };
    }
    this.logger.error({ err }, `runner failure: ${message}`);
    return { exitCode: RunnerExitCodes.internal, status: `runner failure: ${message}`, command };
  }

  /**
   * Writes `time.log` and uploads the output folder (`time.log` last). A failed upload turns
   * an exit code of 0 into 74; a failing app keeps its own code. Returns the exit code.
   */
  async finish(outcome: RunOutcome): Promise<number> {
    const endedAt = new Date();
    const { config } = this;
    const timeLog = formatTimeLog({
      startedAt: outcome.app?.startedAt ?? this.startedAt,
      endedAt: outcome.app?.endedAt ?? endedAt,
      exitCode: outcome.exitCode,
      appExitCode: outcome.app?.exitCode,
      signal: outcome.app?.signal ?? null,
      status: outcome.status,
      node: {
        index: config.node.index,
        count: config.node.count,
        role: config.mode === 'lambda' ? 'lambda' : config.role,
        address: this.identity?.address,
        slots: this.identity?.slots,
      },
      runId: config.runId,
      attempt: config.attempt,
      mode: config.mode,
      command: outcome.command,
    });
    await writeFile(this.workspace.timeLogFile, timeLog);
    let exitCode = outcome.exitCode;
    const destination = config.outputDestination;
    if (!destination) {
      this.logger.warn(
        { outputDir: this.workspace.outputDir },
        'no SPOTJOBS_OUTPUT_URI: outputs stay on this node',
      );
      return exitCode;
    }
    try {
      await uploadOutputs(
        {
          outputDir: this.workspace.outputDir,
          destination,
          // The run's own files (inputs, hostfile) are not outputs, wherever TMP_OUTPUT_DIR points.
          exclude: this.workspace.ownsOutputDir ? [this.workspace.inputDir] : [this.workspace.runDir],
          last: [RunFiles.timeLog],
          concurrency: config.uploadConcurrency,
        },
        this.#blobs(),
        this.logger,
      );
      // Uploaded: nothing of the run needs to stay on the node (a warm Lambda keeps its /tmp).
      await rm(this.workspace.runDir, { recursive: true, force: true });
    } catch (err) {
      this.logger.error({ err: this.redactor.redact(String(err)) }, 'outputs not uploaded');
      if (exitCode === 0) exitCode = err instanceof RunnerError ? err.exitCode : RunnerExitCodes.storage;
    }
    return exitCode;
  }

  #blobs(): BlobStoreForBucket {
    if (!this.deps.blobsFor)
      throw new StorageError('this run has S3 inputs or outputs but no S3 access was set up');
    return this.deps.blobsFor;
  }
}
