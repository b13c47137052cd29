// The local request-API deployable (`spotjobs-compile-api`): a thin composition root. It serves
// the compile API over node:http, on the embedded default backend or on AWS, and stops cleanly
// on SIGTERM / SIGINT (a second signal exits at once).
import { createLogger } from '@spotjobs/core';
import { openLocalStore } from '@spotjobs/core/local';
import { awsCompileApi, awsCompileBackend } from './aws/aws-compile.ts';
import { loadConfigOrExit } from './config.ts';
import { type CompileServer, startCompileServer } from './http/compile-server.ts';
import { localServerSettings, startLocalCompileServer } from './local/local-compile.ts';

const config = loadConfigOrExit('spotjobs-compile-api');
const logger = createLogger({ name: 'spotjobs-compile-api', level: config.logLevel });
if (config.api.apiKeys.length === 0 && config.api.apiKeySha256.length === 0)
  logger.warn('no SPOTJOBS_COMPILE_API_KEYS configured: nobody can submit builds over this server');
if (config.profile.imageDigest === 'unpinned')
  logger.warn('SPOTJOBS_COMPILE_IMAGE_DIGEST is unpinned: builds from different images share an identity');

const http = {
  host: config.http.host,
  port: config.http.port,
  ...(config.http.publicUrl ? { publicUrl: config.http.publicUrl } : {}),
};
let server: CompileServer;
let closeStore = async () => {};
if (config.aws) {
  const api = awsCompileApi(config, awsCompileBackend(config.aws), logger);
  server = await startCompileServer({ ...http, logger, setup: () => ({ api }) });
} else {
  const store = await openLocalStore({ dataDir: config.local.dataDir });
  closeStore = () => store.close();
  server = await startLocalCompileServer({ ...localServerSettings(config), ...http, store, logger });
}
logger.info({ url: server.url, backend: config.backend }, 'spotjobs-compile-api ready');

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) process.exit(1);
  stopping = true;
  logger.info({ signal }, 'stopping');
  await server.close();
  await closeStore();
  logger.flush?.();
};
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, (s) => void stop(s));
