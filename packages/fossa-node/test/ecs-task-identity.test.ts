import { ValidationError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { mergeClusterNodes } from '../src/gateway/cluster-nodes.ts';
import { parseEcsTaskIdentity } from '../src/node/ecs-task-identity.ts';
import type { EcsTaskView, NodeView } from '../src/web/read-model.ts';

// Shaped like a Fargate task's `${ECS_CONTAINER_METADATA_URI_V4}/task` answer (fields trimmed
// to the ones that matter plus a few neighbours, values made up).
const fargateTask = {
  Cluster: 'arn:aws:ecs:eu-west-2:123456789012:cluster/fossa',
  TaskARN: 'arn:aws:ecs:eu-west-2:123456789012:task/fossa/5e8a1c2b9d7f4e60a3b1c0d2e4f6a8b0',
  Family: 'fossa-node',
  Revision: '7',
  DesiredStatus: 'RUNNING',
  KnownStatus: 'RUNNING',
  Limits: { CPU: 1, Memory: 2048 },
  PullStartedAt: '2026-11-23T04:10:02.113Z',
  PullStoppedAt: '2026-11-23T04:10:09.470Z',
  AvailabilityZone: 'eu-west-2a',
  LaunchType: 'FARGATE',
  Containers: [
    {
      DockerId: '5e8a1c2b9d7f4e60a3b1c0d2e4f6a8b0-2785438011',
      Name: 'node',
      Image: '123456789012.dkr.ecr.eu-west-2.amazonaws.com/fossa-node:1.4.0',
      Labels: {
        'com.amazonaws.ecs.cluster': 'arn:aws:ecs:eu-west-2:123456789012:cluster/fossa',
        'com.amazonaws.ecs.container-name': 'node',
        'com.amazonaws.ecs.task-arn':
          'arn:aws:ecs:eu-west-2:123456789012:task/fossa/5e8a1c2b9d7f4e60a3b1c0d2e4f6a8b0',
      },
      DesiredStatus: 'RUNNING',
      KnownStatus: 'RUNNING',
      Limits: { CPU: 2, Memory: 0 },
      Type: 'NORMAL',
      Networks: [
        {
          NetworkMode: 'awsvpc',
          IPv4Addresses: ['10.0.2.7'],
          AttachmentIndex: 0,
          MACAddress: '0a:1b:2c:3d:4e:5f',
          IPv4SubnetCIDRBlock: '10.0.2.0/24',
          PrivateDNSName: 'ip-10-0-2-7.eu-west-2.compute.internal',
          SubnetGatewayIpv4Address: '10.0.2.1/24',
        },
      ],
    },
  ],
  ClockDrift: {
    ClockErrorBound: 0.5,
    ReferenceTimestamp: '2026-11-23T04:10:00Z',
    ClockSynchronizationStatus: 'SYNCHRONIZED',
  },
};

describe('parseEcsTaskIdentity', () => {
  it('takes the task id from TaskARN and the private IPv4 from the container network', () => {
    expect(parseEcsTaskIdentity(fargateTask)).toEqual({
      taskId: '5e8a1c2b9d7f4e60a3b1c0d2e4f6a8b0',
      privateIpv4Address: '10.0.2.7',
    });
  });

  it('gives what the gateway matches an ECS task by (its IP, else its id), so the node is listed once', () => {
    const identity = parseEcsTaskIdentity(fargateTask);
    const heartbeat: NodeView = {
      nodeId: identity.taskId,
      address: `${identity.privateIpv4Address}:2345`,
      capacity: 4,
      available: 4,
      runningTaskIds: [],
      lastHeartbeatAt: 1,
      source: 'heartbeat',
    };
    const listed: EcsTaskView = {
      taskArn: fargateTask.TaskARN,
      lastStatus: 'RUNNING',
      group: 'service:fossa-node',
      startedAt: 1,
      privateIpv4Address: '10.0.2.7',
      capacityProviderName: 'FARGATE_SPOT',
    };
    for (const task of [listed, { ...listed, privateIpv4Address: null }]) {
      const merged = mergeClusterNodes([heartbeat], [task]);
      expect(merged.map((node) => [node.nodeId, node.source])).toEqual([[identity.taskId, 'both']]);
    }
  });

  it('skips networks without an IPv4 address', () => {
    const task = {
      ...fargateTask,
      Containers: [
        { Name: 'sidecar' },
        {
          Name: 'node',
          Networks: [{ NetworkMode: 'awsvpc', IPv4Addresses: [] }, { IPv4Addresses: ['10.0.3.9'] }],
        },
      ],
    };
    expect(parseEcsTaskIdentity(task).privateIpv4Address).toBe('10.0.3.9');
  });

  it('refuses a document without a task ARN or an address, naming both', () => {
    for (const document of [
      {},
      null,
      'text',
      { TaskARN: 'task/x', Containers: [{ Networks: [{ IPv4Addresses: ['fe80::1'] }] }] },
    ]) {
      expect(() => parseEcsTaskIdentity(document)).toThrow(ValidationError);
    }
    expect(() => parseEcsTaskIdentity({})).toThrow(/TaskARN.*IPv4Addresses/);
  });
});
