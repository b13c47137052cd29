import { writeFile } from 'node:fs/promises';
import { appCommand, appEnvironment, appPaths } from '../run/app-command.ts';
import type { RunOutcome, RunSession } from '../run/run-session.ts';
import { formatHostfile } from './hostfile.ts';
import { nodeAddress, nodeSlots } from './node-identity.ts';
import { RendezvousServer } from './rendezvous-server.ts';
import { rendezvousToken } from './rendezvous-token.ts';

/**
 * The main node of a multi-node job: serves the rendezvous, stages its inputs meanwhile, waits
 * (bounded) for every child, writes the hostfile (main first), runs the app through the
 * launcher, tells the children the exit code, waits (bounded) for them to report, uploads,
 * and exits with the app's code, so the job's status is the app's (SCAR's main node always
 * exited 0). Any failure before the app ran is told to the children too, so none is left waiting.
 *
 * @example
 * ```ts
 * process.exitCode = await runMainNode(await RunSession.open(config, deps));
 * ```
 */
export async function runMainNode(session: RunSession): Promise<number> {
  const { config, logger } = session;
  const children = Array.from({ length: config.node.count }, (_, i) => i).filter(
    (i) => i !== config.node.index,
  );
  let server: RendezvousServer | undefined;
  let outcome: RunOutcome;
  try {
    const identity = {
      address: nodeAddress(
        { override: config.node.address, interfaceName: config.node.interfaceName },
        session.deps.identitySources,
      ),
      slots: nodeSlots({ override: config.node.slots }, session.deps.identitySources),
    };
    session.identity = identity;
    server = await RendezvousServer.start({
      host: identity.address,
      port: config.rendezvous.port,
      token: rendezvousToken(config.runId, config.attempt, session.rendezvousSecret),
      children,
      donePollMs: config.rendezvous.donePollMs,
      logger,
    });
    logger.info(
      { address: identity.address, port: server.port, children: children.length },
      'rendezvous open',
    );
    const waiting = server.waitForChildren(config.rendezvous.joinTimeoutMs, session.deps.terminated);
    waiting.catch(() => {}); // awaited below, after staging
    const inputFile = await session.stage();
    const joined = await waiting;
    await writeFile(session.workspace.hostfile, formatHostfile(identity, joined));
    logger.info({ nodes: joined.length + 1 }, 'all nodes joined; hostfile written');
    const paths = appPaths(session.workspace, inputFile, true);
    outcome = await session.runApp(
      appCommand(config, paths),
      appEnvironment(config, session.secretValues, paths),
    );
  } catch (err) {
    outcome = session.failureOutcome(err);
  }
  if (!server) return session.finish(outcome);
  server.finish(outcome.exitCode, outcome.status === 'completed' ? undefined : outcome.status);
  const [exitCode, silent] = await Promise.all([
    session.finish(outcome),
    server.waitForChildrenFinished(config.rendezvous.childFinishMs),
  ]);
  if (silent.length > 0) logger.warn({ nodes: silent }, 'child node(s) did not report finishing in time');
  await server.close();
  return exitCode;
}
