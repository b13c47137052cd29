import { runChildNode } from '../multinode/child-node.ts';
import { runMainNode } from '../multinode/main-node.ts';
import { nodeAddress, nodeSlots } from '../multinode/node-identity.ts';
import type { RunnerConfig } from '../runner-config.ts';
import { appCommand, appEnvironment, appPaths } from './app-command.ts';
import { RunnerExitCodes } from './exit-codes.ts';
import { type RunDeps, RunSession } from './run-session.ts';
import { RunnerError } from './runner-errors.ts';

/**
 * Runs one job on this node as the configuration says: a single process (Lambda, or a Batch
 * single-node job), or the main or a child node of a multi-node job. Resolves with the exit
 * code the process should end with (see `RunnerExitCodes`); never throws for a failed run.
 *
 * @example
 * ```ts
 * const exitCode = await runJob(loadRunnerConfig(), { logger, blobsFor, secretResolver, terminated, stdout: process.stdout, stderr: process.stderr });
 * ```
 */
export async function runJob(config: RunnerConfig, deps: RunDeps): Promise<number> {
  deps.logger.info(
    {
      mode: config.mode,
      role: config.role,
      runId: config.runId,
      attempt: config.attempt,
      node: config.node.index,
      nodes: config.node.count,
    },
    'run starting',
  );
  let session: RunSession;
  try {
    session = await RunSession.open(config, deps);
  } catch (err) {
    if (deps.terminated.aborted) return config.termination.exitCode;
    const exitCode = err instanceof RunnerError ? err.exitCode : RunnerExitCodes.internal;
    deps.logger.error(
      { code: (err as RunnerError).code, exitCode },
      `cannot start the run: ${(err as Error).message}`,
    );
    return exitCode;
  }
  if (config.role === 'main') return runMainNode(session);
  if (config.role === 'child') return runChildNode(session);
  return runSingle(session);
}

async function runSingle(session: RunSession): Promise<number> {
  const { config } = session;
  let outcome: Awaited<ReturnType<RunSession['runApp']>>;
  try {
    if (config.mode === 'batch') {
      // Recorded in time.log; a single node needs no network identity otherwise.
      session.identity = {
        address: safely(() =>
          nodeAddress(
            { override: config.node.address, interfaceName: config.node.interfaceName },
            session.deps.identitySources,
          ),
        ),
        slots: nodeSlots({ override: config.node.slots }, session.deps.identitySources),
      };
    }
    const inputFile = await session.stage();
    const paths = appPaths(session.workspace, inputFile, false);
    outcome = await session.runApp(
      appCommand(config, paths),
      appEnvironment(config, session.secretValues, paths),
    );
  } catch (err) {
    outcome = session.failureOutcome(err);
  }
  return session.finish(outcome);
}

function safely(read: () => string): string {
  try {
    return read();
  } catch {
    return 'unknown';
  }
}
