import {
  DescribeTasksCommand,
  type DescribeTasksCommandOutput,
  ListTasksCommand,
  type ListTasksCommandOutput,
  type Task,
} from '@aws-sdk/client-ecs';
import { AbortedError, BackendError, ValidationError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { AwsEcsTaskLister, type EcsSender, ecsTaskView } from '../src/gateway/aws-ecs-task-lister.ts';

const ARN = 'arn:aws:ecs:eu-west-2:123456789012:task/fossa-cluster/';
const meta = { $metadata: {} };

/** A fake ECS holding `count` running tasks, recording the calls it gets. */
function fakeEcs(count: number): {
  sender: EcsSender;
  calls: (ListTasksCommand | DescribeTasksCommand)[];
  signals: AbortSignal[];
} {
  const calls: (ListTasksCommand | DescribeTasksCommand)[] = [];
  const signals: AbortSignal[] = [];
  const arns = Array.from({ length: count }, (_, i) => `${ARN}${String(i).padStart(4, '0')}`);
  const sender: EcsSender = {
    async send(command, options) {
      calls.push(command);
      signals.push(options.abortSignal);
      if (command instanceof ListTasksCommand) {
        const start = command.input.nextToken ? Number(command.input.nextToken) : 0;
        const size = Math.min(command.input.maxResults ?? 100, 100);
        const end = start + size;
        const output: ListTasksCommandOutput = {
          ...meta,
          taskArns: arns.slice(start, end),
          ...(end < arns.length ? { nextToken: String(end) } : {}),
        };
        return output;
      }
      const requested = command.input.tasks ?? [];
      if (requested.length > 100) throw new Error('DescribeTasks takes at most 100 tasks');
      const output: DescribeTasksCommandOutput = {
        ...meta,
        tasks: requested.map((taskArn, i) => ({
          taskArn,
          lastStatus: 'RUNNING',
          group: 'service:fossa-service',
          startedAt: new Date(Date.UTC(2026, 0, 1)),
          capacityProviderName: 'FARGATE_SPOT',
          containers: [
            { networkInterfaces: [{ privateIpv4Address: `10.0.${Math.floor(i / 250)}.${i % 250}` }] },
          ],
        })),
      };
      return output;
    },
  };
  return { sender, calls, signals };
}

describe('AwsEcsTaskLister', () => {
  it('pages ListTasks and describes in batches of at most 100', async () => {
    const ecs = fakeEcs(230);
    const signal = new AbortController().signal;
    const tasks = await new AwsEcsTaskLister({
      client: ecs.sender,
      cluster: 'fossa-cluster',
      serviceName: 'fossa-service',
    }).list(signal);
    expect(tasks).toHaveLength(230);
    const lists = ecs.calls.filter((call) => call instanceof ListTasksCommand);
    const describes = ecs.calls.filter((call) => call instanceof DescribeTasksCommand);
    expect(lists).toHaveLength(3);
    expect(lists[0]?.input).toMatchObject({
      cluster: 'fossa-cluster',
      serviceName: 'fossa-service',
      desiredStatus: 'RUNNING',
    });
    expect(describes.map((call) => call.input.tasks?.length)).toEqual([100, 100, 30]);
    expect(ecs.signals.every((s) => s === signal)).toBe(true);
    expect(tasks[0]).toEqual({
      taskArn: `${ARN}0000`,
      lastStatus: 'RUNNING',
      group: 'service:fossa-service',
      startedAt: Date.UTC(2026, 0, 1),
      privateIpv4Address: '10.0.0.0',
      capacityProviderName: 'FARGATE_SPOT',
    });
  });

  it('stops at maxTasks', async () => {
    const ecs = fakeEcs(500);
    const tasks = await new AwsEcsTaskLister({ client: ecs.sender, cluster: 'c', maxTasks: 150 }).list(
      new AbortController().signal,
    );
    expect(tasks).toHaveLength(150);
    const lists = ecs.calls.filter((call) => call instanceof ListTasksCommand);
    expect(lists.map((call) => call.input.maxResults)).toEqual([100, 50]);
    expect(lists[0]?.input.serviceName).toBeUndefined();
  });

  it('answers nothing for an empty cluster without describing', async () => {
    const ecs = fakeEcs(0);
    expect(
      await new AwsEcsTaskLister({ client: ecs.sender, cluster: 'c' }).list(new AbortController().signal),
    ).toEqual([]);
    expect(ecs.calls.filter((call) => call instanceof DescribeTasksCommand)).toHaveLength(0);
  });

  it('turns SDK errors into core errors', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    const lister = new AwsEcsTaskLister({
      client: {
        send: async () => {
          throw throttled;
        },
      },
      cluster: 'c',
    });
    const error = await lister.list(new AbortController().signal).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).retryable).toBe(true);
    expect((error as BackendError).cause).toBe(throttled);
  });

  it('an aborted call rejects with AbortedError', async () => {
    const controller = new AbortController();
    const lister = new AwsEcsTaskLister({
      client: {
        send: async () => {
          controller.abort();
          throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
        },
      },
      cluster: 'c',
    });
    await expect(lister.list(controller.signal)).rejects.toBeInstanceOf(AbortedError);
  });

  it('refuses bad options', () => {
    const { sender } = fakeEcs(0);
    expect(() => new AwsEcsTaskLister({ client: sender, cluster: '', serviceName: '', maxTasks: 0 })).toThrow(
      ValidationError,
    );
  });
});

describe('ecsTaskView', () => {
  it('takes the IP from the ENI attachment when no container reports one', () => {
    const task: Task = {
      taskArn: `${ARN}abc`,
      attachments: [
        { type: 'ElasticNetworkInterface', details: [{ name: 'privateIPv4Address', value: '10.0.2.9' }] },
      ],
    };
    expect(ecsTaskView(task)).toEqual({
      taskArn: `${ARN}abc`,
      lastStatus: 'UNKNOWN',
      group: null,
      startedAt: null,
      privateIpv4Address: '10.0.2.9',
      capacityProviderName: null,
    });
  });

  it('skips a task without an ARN', () => {
    expect(ecsTaskView({ lastStatus: 'RUNNING' })).toBeUndefined();
  });
});
