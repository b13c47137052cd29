import { ECSClient } from '@aws-sdk/client-ecs';
import type { Logger } from '@spotjobs/core';
import type { ClusterReadModel } from '../web/read-model.ts';
import { AwsEcsTaskLister, type EcsSender } from './aws-ecs-task-lister.ts';
import { CachedEcsTaskLister } from './cached-ecs-task-lister.ts';
import type { GatewayConfig } from './gateway-config.ts';
import { type GatewayServer, startGatewayServer } from './gateway-server.ts';

/** How long page views share one ECS listing. */
export const ECS_LISTING_TTL_MS = 5_000;

/**
 * Starts the gateway its configuration describes, reading `readModel` (the nodes' Table) and,
 * when `config.ecs` names a cluster, the ECS task listing (shared by page views for
 * `ECS_LISTING_TTL_MS`) through `ecsClient` (default: an
 * `ECSClient` with the SDK's usual region and credentials chain).
 *
 * @example
 * ```ts
 * const gateway = await startConfiguredGateway(gatewayConfig(process.env), { readModel, logger });
 * ```
 */
export async function startConfiguredGateway(
  config: GatewayConfig,
  parts: {
    readonly readModel: ClusterReadModel;
    readonly logger: Logger;
    readonly ecsClient?: EcsSender;
    readonly signal?: AbortSignal;
  },
): Promise<GatewayServer> {
  const ecs =
    config.ecs === undefined
      ? undefined
      : new CachedEcsTaskLister(
          new AwsEcsTaskLister({
            client: parts.ecsClient ?? new ECSClient({}),
            cluster: config.ecs.cluster,
            ...(config.ecs.serviceName === undefined ? {} : { serviceName: config.ecs.serviceName }),
          }),
          { ttlMs: ECS_LISTING_TTL_MS },
        );
  return startGatewayServer({
    host: config.host,
    port: config.port,
    credentials: config.credentials,
    readModel: parts.readModel,
    ...(ecs ? { ecs } : {}),
    authFailures: { maxFailures: config.maxLoginFailures },
    logger: parts.logger,
    ...(parts.signal ? { signal: parts.signal } : {}),
  });
}
