// The Fossa node daemon (`spotjobs-fossa-node`): a thin composition root over startFossaDaemon.
// SIGTERM (Fargate Spot's notice) hands running parents to other nodes at once, drains the
// subtasks running here and releases the rest, then exits 0. Bad settings exit 78.
import { createLogger, ValidationError } from '@spotjobs/core';
import { startFossaDaemon } from './node/fossa-daemon.ts';
import { EXIT_BAD_CONFIG, loadNodeConfigOrExit } from './node-config.ts';

const program = 'spotjobs-fossa-node';
const config = loadNodeConfigOrExit(program);
const logger = createLogger({ name: program, level: config.logLevel });
let daemon: Awaited<ReturnType<typeof startFossaDaemon>>;
try {
  daemon = await startFossaDaemon(config, { logger });
} catch (err) {
  if (!(err instanceof ValidationError)) throw err;
  process.stderr.write(`${program}: invalid settings:\n${err.issues.map((i) => `  ${i}\n`).join('')}`);
  process.exit(EXIT_BAD_CONFIG);
}
await daemon.done;
logger.info('fossa node stopped');
logger.flush();
process.exit(daemon.node.runner.state === 'FAILED' ? 1 : 0);
