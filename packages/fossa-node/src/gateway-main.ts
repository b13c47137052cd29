// The cluster view (`spotjobs-fossa-gateway`): a thin composition root. It reads the nodes'
// Table (and the ECS task listing when a cluster is named) and serves the gateway pages behind
// Basic auth. SIGTERM / SIGINT close it and exit 0 (a second signal exits at once); bad
// settings print every problem and exit 78.
import { createLogger, ValidationError } from '@spotjobs/core';
import { TaskStore } from './distribution/task-store.ts';
import { startConfiguredGateway } from './gateway/configured-gateway.ts';
import { type GatewayConfig, gatewayConfig } from './gateway/gateway-config.ts';
import { openGatewayTable } from './gateway/gateway-table.ts';
import { TableReadModel } from './node/table-read-model.ts';
import { EXIT_BAD_CONFIG } from './node-config.ts';

const program = 'spotjobs-fossa-gateway';
let config: GatewayConfig;
try {
  config = gatewayConfig(process.env);
} catch (err) {
  if (!(err instanceof ValidationError)) throw err;
  process.stderr.write(
    `${program}: invalid settings:\n${err.issues.map((issue) => `  ${issue}\n`).join('')}`,
  );
  process.exit(EXIT_BAD_CONFIG);
}
const logger = createLogger({ name: program, level: config.logLevel });
const backend = await openGatewayTable(config.backend);
const gateway = await startConfiguredGateway(config, {
  readModel: new TableReadModel(new TaskStore(backend.table)),
  logger,
});
logger.info(
  { url: gateway.url, backend: config.backend.kind, ecs: config.ecs ?? null },
  'fossa gateway listening',
);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) process.exit(1);
  stopping = true;
  logger.info({ signal }, 'stopping');
  await gateway.close();
  await backend.close();
  logger.flush();
  process.exit(0);
};
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, (s) => void stop(s));
