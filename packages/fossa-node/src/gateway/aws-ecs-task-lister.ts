import {
  DescribeTasksCommand,
  type DescribeTasksCommandOutput,
  ListTasksCommand,
  type ListTasksCommandOutput,
  type Task,
} from '@aws-sdk/client-ecs';
import { ValidationError } from '@spotjobs/core';
import { translateAwsError } from '@spotjobs/core/aws';
import type { EcsTaskView } from '../web/read-model.ts';
import type { EcsTaskLister } from './ecs-task-lister.ts';

/** The part of `ECSClient` the lister uses, so tests can hand it a fake. */
export interface EcsSender {
  send(
    command: ListTasksCommand | DescribeTasksCommand,
    options: { abortSignal: AbortSignal },
  ): Promise<ListTasksCommandOutput | DescribeTasksCommandOutput>;
}

export interface AwsEcsTaskListerOptions {
  /** An `ECSClient` (region and credentials from the environment). */
  readonly client: EcsSender;
  /** The cluster name or ARN. */
  readonly cluster: string;
  /** Only this service's tasks (the node service); all the cluster's tasks without it. */
  readonly serviceName?: string;
  /** Tasks listed at most (a bounded page for the gateway); default 500. */
  readonly maxTasks?: number;
}

// ECS answers at most 100 ARNs per ListTasks page and describes at most 100 tasks per call.
const ECS_PAGE = 100;

/**
 * `EcsTaskLister` on the AWS SDK v3: `ListTasks` (paged, RUNNING tasks, optionally one service)
 * then `DescribeTasks` in batches of 100. The private IP comes from the container's network
 * interface or the task's ENI attachment (Fargate's `awsvpc` mode has both). SDK errors become
 * core errors (`BackendError`, `AbortedError`, ...).
 *
 * @example
 * ```ts
 * const lister = new AwsEcsTaskLister({ client: new ECSClient({}), cluster: 'fossa-cluster', serviceName: 'fossa-service' });
 * await lister.list(signal);
 * ```
 */
export class AwsEcsTaskLister implements EcsTaskLister {
  readonly #options: AwsEcsTaskListerOptions;
  readonly #maxTasks: number;

  constructor(options: AwsEcsTaskListerOptions) {
    this.#maxTasks = options.maxTasks ?? 500;
    const issues: string[] = [];
    if (options.cluster === '') issues.push('cluster must not be empty');
    if (options.serviceName === '') issues.push('serviceName must not be empty when given');
    if (!Number.isInteger(this.#maxTasks) || this.#maxTasks < 1)
      issues.push('maxTasks must be an integer ≥ 1');
    if (issues.length > 0) throw new ValidationError('invalid ECS task lister options', issues);
    this.#options = options;
  }

  async list(signal: AbortSignal): Promise<EcsTaskView[]> {
    const arns = await this.#listArns(signal);
    const views: EcsTaskView[] = [];
    for (let start = 0; start < arns.length; start += ECS_PAGE) {
      const batch = arns.slice(start, start + ECS_PAGE);
      const output = (await this.#send(
        new DescribeTasksCommand({ cluster: this.#options.cluster, tasks: batch }),
        'DescribeTasks',
        signal,
      )) as DescribeTasksCommandOutput;
      for (const task of output.tasks ?? []) {
        const view = ecsTaskView(task);
        if (view) views.push(view);
      }
    }
    return views.sort((a, b) => a.taskArn.localeCompare(b.taskArn));
  }

  async #listArns(signal: AbortSignal): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const output = (await this.#send(
        new ListTasksCommand({
          cluster: this.#options.cluster,
          desiredStatus: 'RUNNING',
          maxResults: Math.min(ECS_PAGE, this.#maxTasks - arns.length),
          ...(this.#options.serviceName === undefined ? {} : { serviceName: this.#options.serviceName }),
          ...(nextToken === undefined ? {} : { nextToken }),
        }),
        'ListTasks',
        signal,
      )) as ListTasksCommandOutput;
      arns.push(...(output.taskArns ?? []));
      nextToken = output.nextToken;
    } while (nextToken !== undefined && arns.length < this.#maxTasks);
    return arns.slice(0, this.#maxTasks);
  }

  async #send(
    command: ListTasksCommand | DescribeTasksCommand,
    operation: string,
    signal: AbortSignal,
  ): Promise<ListTasksCommandOutput | DescribeTasksCommandOutput> {
    try {
      return await this.#options.client.send(command, { abortSignal: signal });
    } catch (err) {
      throw translateAwsError(err, { operation, key: this.#options.cluster, signal });
    }
  }
}

/**
 * What the gateway shows of an ECS task, or undefined for one without an ARN.
 *
 * @example
 * ```ts
 * ecsTaskView({ taskArn: 'arn:…/abc', lastStatus: 'RUNNING', containers: [{ networkInterfaces: [{ privateIpv4Address: '10.0.2.7' }] }] });
 * ```
 */
export function ecsTaskView(task: Task): EcsTaskView | undefined {
  if (!task.taskArn) return undefined;
  return {
    taskArn: task.taskArn,
    lastStatus: task.lastStatus ?? 'UNKNOWN',
    group: task.group ?? null,
    startedAt: task.startedAt ? task.startedAt.getTime() : null,
    privateIpv4Address: privateIpv4Of(task),
    capacityProviderName: task.capacityProviderName ?? null,
  };
}

function privateIpv4Of(task: Task): string | null {
  for (const container of task.containers ?? [])
    for (const networkInterface of container.networkInterfaces ?? [])
      if (networkInterface.privateIpv4Address) return networkInterface.privateIpv4Address;
  for (const attachment of task.attachments ?? [])
    for (const detail of attachment.details ?? [])
      if (detail.name === 'privateIPv4Address' && detail.value) return detail.value;
  return null;
}
