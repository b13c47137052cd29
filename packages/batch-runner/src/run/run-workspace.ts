import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunnerConfig } from '../runner-config.ts';

/** The files and folders of one run on one node. */
export interface RunWorkspace {
  /** `<workDir>/spotjobs-<runId>`: the same path on every node of a job. */
  readonly runDir: string;
  readonly inputDir: string;
  readonly outputDir: string;
  /** Whether the runner made `outputDir` (inside `runDir`), rather than TMP_OUTPUT_DIR naming one. */
  readonly ownsOutputDir: boolean;
  /** The app's stdout and stderr, beside its outputs. */
  readonly appLogFile: string;
  readonly timeLogFile: string;
  readonly hostfile: string;
}

/** Names the runner writes into the output folder. */
export const RunFiles = { timeLog: 'time.log', appLog: 'app.log' } as const;

/**
 * Lays out (afresh) the run's folders. Paths depend only on the work dir and the run id, so
 * every node of a multi-node job has the same ones: an MPI rank started on a child finds its
 * inputs and writes its outputs at the paths the main node passed it (SCAR's random per-node
 * temp dirs did not exist on the other nodes).
 *
 * @example
 * ```ts
 * const ws = await prepareWorkspace(config); // ws.inputDir === '/tmp/spotjobs-<job id>/input'
 * ```
 */
export async function prepareWorkspace(config: RunnerConfig): Promise<RunWorkspace> {
  const runDir = join(config.workDir, `spotjobs-${config.runId}`);
  // Left over from an earlier run with this id on this host (a warm Lambda container): ours to clear.
  await rm(runDir, { recursive: true, force: true });
  const inputDir = join(runDir, 'input');
  const outputDir = config.outputDir ?? join(runDir, 'output');
  await mkdir(inputDir, { recursive: true, mode: 0o700 });
  await mkdir(outputDir, { recursive: true });
  return {
    runDir,
    inputDir,
    outputDir,
    ownsOutputDir: config.outputDir === undefined,
    appLogFile: join(outputDir, RunFiles.appLog),
    timeLogFile: join(outputDir, RunFiles.timeLog),
    hostfile: join(runDir, 'hostfile'),
  };
}
