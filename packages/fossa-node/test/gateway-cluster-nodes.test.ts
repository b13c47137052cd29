import { describe, expect, it } from 'vitest';
import { ecsTaskId, mergeClusterNodes } from '../src/gateway/cluster-nodes.ts';
import type { EcsTaskView } from '../src/web/read-model.ts';
import { nodeView } from './support/cluster-views.ts';

function ecsTask(id: string, ip: string | null): EcsTaskView {
  return {
    taskArn: `arn:aws:ecs:eu-west-2:123456789012:task/fossa-cluster/${id}`,
    lastStatus: 'RUNNING',
    group: 'service:fossa-service',
    startedAt: Date.UTC(2026, 0, 1),
    privateIpv4Address: ip,
    capacityProviderName: 'FARGATE_SPOT',
  };
}

describe('mergeClusterNodes', () => {
  it('joins by private IP, keeps unmatched heartbeats, and adds ECS-only tasks', () => {
    const merged = mergeClusterNodes(
      [
        nodeView({ nodeId: 'node-a', address: '10.0.2.7:2345' }),
        nodeView({ nodeId: 'node-local', address: '127.0.0.1:2345' }),
      ],
      [ecsTask('t1', '10.0.2.7'), ecsTask('t2', '10.0.2.8')],
    );
    expect(
      merged.map((node) => [node.nodeId, node.source, node.ecs?.taskArn.endsWith('/t1') ?? null]),
    ).toEqual([
      ['node-a', 'both', true],
      ['node-local', 'heartbeat', null],
      ['t2', 'ecs', false],
    ]);
    const ecsOnly = merged.find((node) => node.nodeId === 't2');
    expect(ecsOnly).toMatchObject({
      address: '10.0.2.8:2345',
      capacity: null,
      lastHeartbeatAt: null,
      runningTaskIds: [],
    });
  });

  it('joins by ECS task id when the node names itself after its task', () => {
    const merged = mergeClusterNodes([nodeView({ nodeId: 'f00d', address: null })], [ecsTask('f00d', null)]);
    expect(merged).toHaveLength(1);
    expect(merged[0]?.source).toBe('both');
  });

  it('matches one ECS task to one node only', () => {
    const merged = mergeClusterNodes(
      [
        nodeView({ nodeId: 'a', address: 'http://10.0.2.7:2345' }),
        nodeView({ nodeId: 'b', address: '10.0.2.7:2345' }),
      ],
      [ecsTask('t1', '10.0.2.7')],
    );
    expect(merged.map((node) => node.source)).toEqual(['both', 'heartbeat']);
  });

  it('lists heartbeats alone when there is no ECS listing, and tolerates odd addresses', () => {
    const merged = mergeClusterNodes([nodeView({ nodeId: 'x', address: 'not a url at all' })], []);
    expect(merged).toEqual([expect.objectContaining({ nodeId: 'x', source: 'heartbeat' })]);
  });
});

describe('ecsTaskId', () => {
  it('is the last segment of the ARN', () => {
    expect(ecsTaskId('arn:aws:ecs:eu-west-2:123456789012:task/fossa-cluster/0f1e2d')).toBe('0f1e2d');
  });
});
