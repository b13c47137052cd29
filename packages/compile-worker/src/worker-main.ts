// The build daemon (`spotjobs-compile-worker`): a thin composition root over startCompileWorker.
// Under systemd (Type=notify) it reports READY once polling, pings the watchdog while the runner
// is healthy, and reports STOPPING on SIGTERM; the runner drains, stops running builds and
// releases them before the process exits.
import { createLogger, systemdNotifier } from '@spotjobs/core';
import { loadConfigOrExit } from './config.ts';
import { startCompileWorker } from './daemon/compile-worker.ts';

const config = loadConfigOrExit('spotjobs-compile-worker');
const logger = createLogger({ name: 'spotjobs-compile-worker', level: config.logLevel });
const systemd = systemdNotifier(process.env, { logger });

const worker = await startCompileWorker(config, { logger });
const { runner } = worker;
await systemd.ready(`building with ${worker.executor.kind}, ${config.worker.concurrency} at once`);
// A stalled event loop stops the pings; systemd then restarts the daemon (WatchdogSec).
const stopWatchdog = systemd.startWatchdog(() => runner.state === 'RUNNING');
runner.on('state', (state) => {
  if (state === 'STOPPING') void systemd.stopping(`draining (${runner.stats().inFlight} builds in flight)`);
});
const showLoad = () => void systemd.status(`${runner.stats().inFlight} builds in flight`);
runner.on('job:started', showLoad);
runner.on('job:succeeded', showLoad);

await worker.done;
stopWatchdog();
logger.info('spotjobs-compile-worker stopped');
logger.flush();
process.exit(runner.state === 'FAILED' ? 1 : 0);
