// Composition root: web front end + worker + health/metrics in one process. In production the
// two halves usually run apart (web behind a load balancer, workers on spot capacity); they
// share nothing but the queue, the table and the blobs, so splitting them is a matter of
// starting only one.
//
// Exit codes: 0 after a clean stop (SIGTERM/SIGINT), 1 when the worker failed, 78 on bad config.
import {
  createLogger,
  instrumentRunner,
  MetricsRegistry,
  runnerRunningCheck,
  startHealthServer,
  ValidationError,
} from '@spotjobs/core';
import { openBackend } from './backend.ts';
import { type Config, loadConfig } from './config.ts';
import { startWeb } from './web.ts';
import { createWorker } from './worker.ts';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ValidationError)) throw err;
  process.stderr.write(`web-queue-worker: ${err.message}\n`);
  process.exit(78); // EX_CONFIG
}

const logger = createLogger({ name: 'web-queue-worker', level: config.logLevel });
const backend = await openBackend(config.backend);
const runner = await createWorker({
  backend,
  concurrency: config.worker.concurrency,
  maxDimension: config.maxDimension,
  logger,
  handleSignals: true,
});
const registry = new MetricsRegistry();
instrumentRunner(runner, registry, { queue: backend.queue.name });
const health = await startHealthServer({
  port: config.healthPort,
  registry,
  checks: { runner: runnerRunningCheck(runner) },
  logger,
});
const web = await startWeb({
  ...config.web,
  backend,
  maxDimension: config.maxDimension,
  logger,
});
// Stop taking uploads as soon as a stop begins; the worker drains what is in flight.
runner.on('state', (state) => {
  if (state === 'STOPPING') void web.close();
});

const running = runner.run();
logger.info({ url: web.url, health: health.url, backend: config.backend.kind }, 'web-queue-worker listening');
try {
  await running;
} catch (err) {
  logger.fatal({ err }, 'worker failed');
  process.exitCode = 1;
} finally {
  await Promise.all([web.close(), health.close()]);
  await backend.close();
  logger.flush();
}
