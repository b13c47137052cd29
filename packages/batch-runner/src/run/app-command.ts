import type { RunnerConfig } from '../runner-config.ts';
import { fillPlaceholders } from './argv-words.ts';
import type { RunWorkspace } from './run-workspace.ts';

/** What the app is told about its run: paths for placeholders and environment variables. */
export interface AppPaths {
  readonly inputFile: string | undefined;
  readonly inputDir: string;
  readonly outputDir: string;
  /** Multi-node main only. */
  readonly hostfile: string | undefined;
}

/**
 * The argv that runs the app: `APP_BIN` + `APP_PARAMS`, behind the launcher on a multi-node
 * main node (`mpirun --hostfile {hostfile} ...`), placeholders filled.
 *
 * @example
 * ```ts
 * appCommand(config, { inputFile: '/w/in/a.dat', inputDir: '/w/in', outputDir: '/w/out', hostfile: '/w/hostfile' });
 * // ['mpirun', '--hostfile', '/w/hostfile', '/opt/simest', '/w/in/a.dat', '/w/out']
 * ```
 */
export function appCommand(config: RunnerConfig, paths: AppPaths): [string, ...string[]] {
  const launcher = config.role === 'main' ? config.app.launcher : [];
  const words = fillPlaceholders([...launcher, config.app.bin, ...config.app.params], {
    input: paths.inputFile,
    inputDir: paths.inputDir,
    output: paths.outputDir,
    hostfile: paths.hostfile,
  });
  return words as [string, ...string[]];
}

/**
 * The app's environment: the runner's own, with each `APP_SECRET_*` reference replaced by its
 * value (in the environment only: never on a command line, where `ps` would show it), plus
 * `INPUT_FILE_PATH`, `TMP_OUTPUT_DIR` (SCAR's names), `SPOTJOBS_INPUT_DIR`, `SPOTJOBS_RUN_ID`
 * and, on a multi-node main node, `HOST_FILE_PATH` (SCAR's name) and `SPOTJOBS_HOSTFILE`.
 *
 * @example
 * ```ts
 * const env = appEnvironment(config, secretValues, paths);
 * env.TMP_OUTPUT_DIR; // '/tmp/spotjobs-<job id>/output'
 * ```
 */
export function appEnvironment(
  config: RunnerConfig,
  secretValues: ReadonlyMap<string, string>,
  paths: AppPaths,
): Record<string, string> {
  const env: Record<string, string> = { ...config.appEnv };
  for (const [name, value] of secretValues) env[name] = value;
  if (paths.inputFile) env.INPUT_FILE_PATH = paths.inputFile;
  env.SPOTJOBS_INPUT_DIR = paths.inputDir;
  env.TMP_OUTPUT_DIR = paths.outputDir;
  env.SPOTJOBS_RUN_ID = config.runId;
  if (paths.hostfile) {
    env.HOST_FILE_PATH = paths.hostfile;
    env.SPOTJOBS_HOSTFILE = paths.hostfile;
  }
  return env;
}

/** Paths of a workspace as the app sees them. */
export function appPaths(
  workspace: RunWorkspace,
  inputFile: string | undefined,
  multiNodeMain: boolean,
): AppPaths {
  return {
    inputFile,
    inputDir: workspace.inputDir,
    outputDir: workspace.outputDir,
    hostfile: multiNodeMain ? workspace.hostfile : undefined,
  };
}
