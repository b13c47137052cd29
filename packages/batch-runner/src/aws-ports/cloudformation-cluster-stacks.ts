import {
  type CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  type Stack,
  type StackEvent,
} from '@aws-sdk/client-cloudformation';
import { ConditionFailedError, NotFoundError, type SpotjobsError } from '@spotjobs/core';
import { type AwsRetryOptions, awsErrorName, callAws } from './aws-call.ts';
import { type ClusterStacks, type StackInfo, StackRejectedError, type StackSpec } from './cluster-stacks.ts';

export interface CloudFormationClusterStacksOptions {
  readonly client: CloudFormationClient;
  readonly retry?: AwsRetryOptions;
  /** Pages of stack events read to find a failure's cause (100 events a page; default 5). */
  readonly maxEventPages?: number;
}

const EXISTS = new Set(['AlreadyExistsException', 'TokenAlreadyExistsException']);
const REFUSED = new Set([
  'InsufficientCapabilitiesException',
  'LimitExceededException',
  'ConcurrentResourcesLimitExceededException',
]);
// CloudFormation answers an unknown stack with the generic `ValidationError` and this text.
const MISSING = /does not exist/i;
// Resources CloudFormation stops because another one failed: a consequence, never the cause.
const CASCADE = /cancelled|canceled/i;

/**
 * `ClusterStacks` on CloudFormation with the SDK v3: CreateStack with tags, a
 * ClientRequestToken, `TimeoutInMinutes` and `OnFailure`; DescribeStacks; DescribeStackEvents
 * for the cause of a failure; DeleteStack with a ClientRequestToken.
 *
 * Error translation: `AlreadyExistsException` / `TokenAlreadyExistsException` on create →
 * success with `created: false` (the existing stack is described so the caller can check its
 * owner); `ValidationError` (the template refuses a parameter), missing capabilities and
 * limits → `StackRejectedError`; "does not exist" → undefined from `describe`; throttling and
 * 5xx → retried, then a retryable `BackendError`.
 *
 * No emulator speaks CloudFormation, so this adapter is unit-tested on the requests it builds
 * and the errors it translates.
 *
 * @example
 * ```ts
 * const stacks = new CloudFormationClusterStacks({ client: new CloudFormationClient({}) });
 * ```
 */
export class CloudFormationClusterStacks implements ClusterStacks {
  readonly #client: CloudFormationClient;
  readonly #retry: AwsRetryOptions;
  readonly #maxEventPages: number;

  constructor(options: CloudFormationClusterStacksOptions) {
    this.#client = options.client;
    this.#retry = options.retry ?? {};
    this.#maxEventPages = options.maxEventPages ?? 5;
  }

  async create(spec: StackSpec, signal?: AbortSignal): Promise<{ stackId: string; created: boolean }> {
    const classify = (err: unknown): SpotjobsError | undefined => {
      const name = awsErrorName(err);
      if (name && EXISTS.has(name)) return new ConditionFailedError(spec.stackName, { cause: err });
      if (name === 'ValidationError' || (name && REFUSED.has(name)))
        return new StackRejectedError(spec.stackName, errorMessage(err), { cause: err });
      return undefined;
    };
    try {
      const out = await callAws(
        (abortSignal) => this.#client.send(new CreateStackCommand(createStackInput(spec)), { abortSignal }),
        { operation: 'CreateStack', key: spec.stackName, signal, classify },
        this.#retry,
      );
      return { stackId: out.StackId ?? '', created: true };
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
      // A retry of our own request, or a stack someone made earlier under this name: either
      // way the caller checks its tags before using it.
      const existing = await this.describe(spec.stackName, signal);
      if (!existing) throw err;
      return { stackId: existing.stackId, created: false };
    }
  }

  async describe(stackNameOrId: string, signal?: AbortSignal): Promise<StackInfo | undefined> {
    const classify = (err: unknown): SpotjobsError | undefined =>
      awsErrorName(err) === 'ValidationError' && MISSING.test(errorMessage(err))
        ? new NotFoundError(stackNameOrId, { cause: err })
        : undefined;
    try {
      const out = await callAws(
        (abortSignal) =>
          this.#client.send(new DescribeStacksCommand({ StackName: stackNameOrId }), { abortSignal }),
        { operation: 'DescribeStacks', key: stackNameOrId, signal, classify },
        this.#retry,
      );
      const stack = out.Stacks?.[0];
      return stack ? toStackInfo(stack) : undefined;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async failureReason(
    stackId: string,
    operation: 'create' | 'delete',
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const events: StackEvent[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < this.#maxEventPages; page++) {
      const out = await callAws(
        (abortSignal) =>
          this.#client.send(new DescribeStackEventsCommand({ StackName: stackId, NextToken: nextToken }), {
            abortSignal,
          }),
        { operation: 'DescribeStackEvents', key: stackId, signal },
        this.#retry,
      );
      events.push(...(out.StackEvents ?? []));
      nextToken = out.NextToken;
      if (!nextToken || reachedOperationStart(events, operation)) break;
    }
    return rootCause(events, operation);
  }

  async delete(stackId: string, clientRequestToken: string, signal?: AbortSignal): Promise<void> {
    await callAws(
      (abortSignal) =>
        this.#client.send(
          new DeleteStackCommand({ StackName: stackId, ClientRequestToken: clientRequestToken }),
          {
            abortSignal,
          },
        ),
      { operation: 'DeleteStack', key: stackId, signal },
      this.#retry,
    );
  }
}

/**
 * The CreateStack request for `spec`: parameters and tags as sorted lists (stable requests),
 * the request token, CloudFormation's own timeout and what to do on failure.
 *
 * @example
 * ```ts
 * createStackInput(spec).Tags; // [{ Key: 'project', Value: 'alice' }, { Key: 'spotjobs:owner', Value: 'alice' }]
 * ```
 */
export function createStackInput(spec: StackSpec) {
  return {
    StackName: spec.stackName,
    TemplateURL: spec.templateUrl,
    Parameters: Object.keys(spec.parameters)
      .sort()
      .map((key) => ({ ParameterKey: key, ParameterValue: spec.parameters[key] })),
    Capabilities: [...spec.capabilities] as CreateStackCapabilities,
    Tags: Object.keys(spec.tags)
      .sort()
      .map((key) => ({ Key: key, Value: spec.tags[key] })),
    ClientRequestToken: spec.clientRequestToken,
    TimeoutInMinutes: spec.timeoutMinutes,
    OnFailure: spec.onFailure,
    ...(spec.roleArn ? { RoleARN: spec.roleArn } : {}),
  };
}

type CreateStackCapabilities = NonNullable<
  ConstructorParameters<typeof CreateStackCommand>[0]['Capabilities']
>;

function toStackInfo(stack: Stack): StackInfo {
  return {
    stackId: stack.StackId ?? '',
    stackName: stack.StackName ?? '',
    status: stack.StackStatus ?? 'UNKNOWN',
    statusReason: stack.StackStatusReason,
    createdAt: stack.CreationTime ?? new Date(0),
    deletedAt: stack.DeletionTime,
    tags: Object.fromEntries((stack.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    outputs: Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? ''])),
  };
}

const isStackEvent = (e: StackEvent) => e.ResourceType === 'AWS::CloudFormation::Stack';
const startStatus = { create: 'CREATE_IN_PROGRESS', delete: 'DELETE_IN_PROGRESS' } as const;

function reachedOperationStart(events: readonly StackEvent[], operation: 'create' | 'delete'): boolean {
  return events.some((e) => isStackEvent(e) && e.ResourceStatus === startStatus[operation]);
}

/**
 * The cause of the last operation's failure from events listed newest first: among the
 * events after the operation started, the oldest resource failure that is not a cascade
 * ("Resource creation cancelled"); else the stack's own failure or rollback reason.
 */
export function rootCause(events: readonly StackEvent[], operation: 'create' | 'delete'): string | undefined {
  const start = events.findIndex((e) => isStackEvent(e) && e.ResourceStatus === startStatus[operation]);
  const window = start < 0 ? events : events.slice(0, start);
  const failures = window.filter(
    (e) =>
      e.ResourceStatus?.endsWith('_FAILED') &&
      e.ResourceStatusReason &&
      !CASCADE.test(e.ResourceStatusReason),
  );
  const cause = failures.filter((e) => !isStackEvent(e)).at(-1) ?? failures.at(-1);
  if (cause) {
    const what = isStackEvent(cause) ? '' : `${cause.LogicalResourceId} (${cause.ResourceType}): `;
    return `${what}${cause.ResourceStatusReason}`;
  }
  const stackReason = window.find(
    (e) => isStackEvent(e) && e.ResourceStatusReason && /ROLLBACK|FAILED/.test(e.ResourceStatus ?? ''),
  );
  return stackReason?.ResourceStatusReason;
}

function errorMessage(err: unknown): string {
  return err instanceof Error && err.message ? err.message : String(awsErrorName(err) ?? err);
}
