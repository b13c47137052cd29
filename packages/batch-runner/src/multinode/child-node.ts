import { appEnvironment, appPaths } from '../run/app-command.ts';
import { startApp } from '../run/app-process.ts';
import type { RunOutcome, RunSession } from '../run/run-session.ts';
import { RendezvousError } from '../run/runner-errors.ts';
import { nodeAddress, nodeSlots } from './node-identity.ts';
import { RendezvousClient } from './rendezvous-client.ts';
import { rendezvousToken } from './rendezvous-token.ts';

/**
 * A child node of a multi-node job: stages the inputs (at the same paths as the main node),
 * joins the main node's rendezvous (retrying while it is not up), runs the optional child
 * command (an sshd for `mpirun`, a worker daemon), and long-polls the main node until it says
 * the job is done. It then stops the child command, uploads its own outputs under
 * `node-<index>/`, reports back and exits with the job's exit code. If the main node stops
 * answering for `SPOTJOBS_MAIN_GONE_SECONDS`, it exits 69 at once.
 *
 * @example
 * ```ts
 * process.exitCode = await runChildNode(await RunSession.open(config, deps));
 * ```
 */
export async function runChildNode(session: RunSession): Promise<number> {
  const { config, logger, deps } = session;
  const client = new RendezvousClient({
    mainAddress: config.node.mainAddress!,
    port: config.rendezvous.port,
    token: rendezvousToken(config.runId, config.attempt, session.rendezvousSecret),
    node: config.node.index,
    logger,
  });
  let outcome: RunOutcome;
  let told = false;
  let command: string[] = [];
  try {
    const identity = {
      address: nodeAddress(
        { override: config.node.address, interfaceName: config.node.interfaceName },
        deps.identitySources,
      ),
      slots: nodeSlots({ override: config.node.slots }, deps.identitySources),
    };
    session.identity = identity;
    let failure: string | undefined;
    let inputFile: string | undefined;
    try {
      inputFile = await session.stage();
    } catch (err) {
      if (deps.terminated.aborted) throw err;
      failure = session.redactor.redact((err as Error).message);
      outcome = session.failureOutcome(err);
    }
    const joined = await client.join(identity, {
      timeoutMs: config.rendezvous.joinTimeoutMs,
      signal: deps.terminated,
      ...(failure === undefined ? {} : { failure }),
    });
    if (failure !== undefined) {
      told = true;
      return await session.finish(outcome!);
    }
    if (!joined.joined) {
      logger.warn({ exitCode: joined.exitCode }, `not needed: ${joined.reason}`);
      told = true;
      return await session.finish({ exitCode: joined.exitCode, status: joined.reason, command: [] });
    }
    logger.info(
      { mainAddress: config.node.mainAddress, ...identity },
      'joined the main node; waiting for the job to end',
    );
    const paths = appPaths(session.workspace, inputFile, false);
    const helper = config.app.childCommand.length > 0 ? await startChildCommand(session, paths) : undefined;
    command = helper?.command ?? [];
    try {
      const done = await client.waitForDone({
        donePollMs: config.rendezvous.donePollMs,
        mainGoneMs: config.rendezvous.mainGoneMs,
        signal: deps.terminated,
      });
      logger.info(
        { exitCode: done.exitCode, ...(done.reason ? { reason: done.reason } : {}) },
        'the main node finished',
      );
      outcome = { exitCode: done.exitCode, status: done.reason ?? 'completed', command };
    } finally {
      if (helper) await helper.app.terminate(config.termination.graceMs);
    }
  } catch (err) {
    // A refused join or a vanished main node: nobody is waiting for this node's report.
    if (err instanceof RendezvousError) told = true;
    outcome = session.failureOutcome(err, command);
  }
  const exitCode = await session.finish(outcome);
  if (!told) {
    await client.reportFinished(exitCode, exitCode === outcome.exitCode ? undefined : 'outputs not uploaded');
  }
  return exitCode;
}

async function startChildCommand(session: RunSession, paths: ReturnType<typeof appPaths>) {
  const { config } = session;
  const [program, ...args] = config.app.childCommand as [string, ...string[]];
  const command = [program, ...args].map((w) => session.redactor.redact(w));
  session.logger.info({ command }, 'starting the child command');
  const app = await startApp({
    argv: [program, ...args],
    env: appEnvironment(config, session.secretValues, paths),
    cwd: session.workspace.outputDir,
    redactor: session.redactor,
    stdout: session.deps.stdout,
    stderr: session.deps.stderr,
    logFile: session.workspace.appLogFile,
  });
  void app.exited.then((exit) => {
    if (!session.deps.terminated.aborted)
      session.logger.info({ exitCode: exit.exitCode, signal: exit.signal }, 'the child command exited');
  });
  return { app, command };
}
