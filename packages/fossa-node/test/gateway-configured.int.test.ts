import { ListTasksCommand } from '@aws-sdk/client-ecs';
import { recordingLogger } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import type { EcsSender } from '../src/gateway/aws-ecs-task-lister.ts';
import { startConfiguredGateway } from '../src/gateway/configured-gateway.ts';
import { gatewayConfig } from '../src/gateway/gateway-config.ts';
import { InMemoryClusterReadModel } from '../src/web/in-memory-cluster-read-model.ts';
import { nodeView } from './support/cluster-views.ts';

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

describe('startConfiguredGateway', () => {
  it('serves what the environment configures: credentials, login limit, the ECS cluster and service', async () => {
    const config = gatewayConfig({
      FOSSA_GATEWAY_HOST: '127.0.0.1',
      FOSSA_GATEWAY_PORT: '0',
      FOSSA_GATEWAY_USERNAME: 'ops',
      FOSSA_GATEWAY_PASSWORD: 'configured-password',
      FOSSA_TABLE_NAME: 'fossa-tasks',
      FOSSA_ECS_CLUSTER: 'fossa-cluster',
      FOSSA_ECS_SERVICE: 'fossa-service',
      FOSSA_GATEWAY_MAX_LOGIN_FAILURES: '2',
    });
    const readModel = new InMemoryClusterReadModel();
    readModel.putNode(nodeView({ nodeId: 'node-a', address: '10.0.2.7:2345' }));
    const requests: unknown[] = [];
    const ecsClient: EcsSender = {
      send: async (command) => {
        requests.push(command.input);
        if (command instanceof ListTasksCommand)
          return { $metadata: {}, taskArns: ['arn:aws:ecs:eu-west-2:1:task/fossa-cluster/t-a'] };
        return {
          $metadata: {},
          tasks: [
            {
              taskArn: 'arn:aws:ecs:eu-west-2:1:task/fossa-cluster/t-a',
              lastStatus: 'RUNNING',
              containers: [{ networkInterfaces: [{ privateIpv4Address: '10.0.2.7' }] }],
            },
          ],
        };
      },
    };
    const gateway = await startConfiguredGateway(config, { readModel, logger: recordingLogger(), ecsClient });
    try {
      const ok = await fetch(`${gateway.url}/`, {
        headers: { authorization: basic('ops', 'configured-password') },
      });
      expect(ok.status).toBe(200);
      const body = await ok.text();
      expect(body).toMatch(/<td><a href="\/node\/node-a">node-a<\/a><\/td><td>both<\/td>/);
      expect(requests[0]).toMatchObject({
        cluster: 'fossa-cluster',
        serviceName: 'fossa-service',
        desiredStatus: 'RUNNING',
      });
      // A second view within the cache's life makes no ECS call.
      const again = await fetch(`${gateway.url}/node/node-a`, {
        headers: { authorization: basic('ops', 'configured-password') },
      });
      expect(again.status).toBe(200);
      expect(requests).toHaveLength(2); // one ListTasks, one DescribeTasks

      expect(
        (
          await fetch(`${gateway.url}/`, {
            headers: { authorization: basic('fossa', 'configured-password') },
          })
        ).status,
      ).toBe(401);
      expect(
        (await fetch(`${gateway.url}/`, { headers: { authorization: basic('ops', 'wrong-password') } }))
          .status,
      ).toBe(401);
      expect(
        (await fetch(`${gateway.url}/`, { headers: { authorization: basic('ops', 'configured-password') } }))
          .status,
      ).toBe(429);
    } finally {
      await gateway.close();
    }
  });
});
