import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '@spotjobs/core';
import { type ClusterStacks, type StackInfo, StackRejectedError, type StackSpec } from './cluster-stacks.ts';

/** How a stack made by `MemoryClusterStacks.create` behaves. */
export interface MemoryStackScript {
  /**
   * Statuses the stack shows, one more per `describe`; the last one stays.
   * Default `['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']`.
   */
  readonly statuses?: readonly string[];
  /** Statuses after `delete`; default `['DELETE_IN_PROGRESS', 'DELETE_COMPLETE']`. */
  readonly deleteStatuses?: readonly string[];
  readonly outputs?: Readonly<Record<string, string>>;
  /** What `failureReason` answers for the creation / the deletion. */
  readonly createFailure?: string;
  readonly deleteFailure?: string;
  /** `create` rejects with `StackRejectedError` and this reason (a template refusing a parameter). */
  readonly reject?: string;
}

interface MemoryStack {
  info: StackInfo;
  script: MemoryStackScript;
  /** Statuses still to show, first next. */
  pending: string[];
}

/** A stack that exists before the test starts (someone else's, a leftover). */
export interface SeededStack {
  readonly stackName: string;
  /** Statuses it shows, one more per `describe`, as for created stacks; default `['CREATE_COMPLETE']`. */
  readonly statuses?: readonly string[];
  readonly tags?: Readonly<Record<string, string>>;
  readonly outputs?: Readonly<Record<string, string>>;
  /** How its deletion goes (`deleteStatuses`, `deleteFailure`). */
  readonly script?: MemoryStackScript;
}

/**
 * `ClusterStacks` in memory, following CloudFormation's rules that matter here: one live
 * stack per name, `create` of a taken name answers `created: false`, deleted stacks stay
 * describable by id. Stacks move through scripted statuses, one step per `describe`, so a
 * test decides when a creation completes or fails. Every call is recorded in `calls`.
 *
 * @example
 * ```ts
 * const stacks = new MemoryClusterStacks({ script: () => ({ statuses: ['CREATE_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS'], createFailure: 'Master (AWS::EC2::Instance): capacity' }) });
 * ```
 */
export class MemoryClusterStacks implements ClusterStacks {
  readonly calls: Array<{
    readonly operation: string;
    readonly target: string;
    readonly spec?: StackSpec;
    readonly token?: string;
  }> = [];
  readonly #stacks: MemoryStack[] = [];
  readonly #clock: Clock;
  readonly #script: (spec: StackSpec) => MemoryStackScript;

  constructor(options: { clock?: Clock; script?: (spec: StackSpec) => MemoryStackScript } = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#script = options.script ?? (() => ({}));
  }

  /** Adds a stack that exists already; answers its id. */
  seed(stack: SeededStack): string {
    const stackId = this.#newId(stack.stackName);
    const [status = 'CREATE_COMPLETE', ...pending] = stack.statuses ?? [];
    this.#stacks.push({
      info: {
        stackId,
        stackName: stack.stackName,
        status,
        statusReason: undefined,
        createdAt: new Date(this.#clock.now()),
        deletedAt: undefined,
        tags: { ...stack.tags },
        outputs: { ...stack.outputs },
      },
      script: stack.script ?? {},
      pending,
    });
    return stackId;
  }

  async create(spec: StackSpec, signal?: AbortSignal): Promise<{ stackId: string; created: boolean }> {
    signal?.throwIfAborted();
    this.calls.push({ operation: 'create', target: spec.stackName, spec });
    const live = this.#live(spec.stackName);
    if (live) return { stackId: live.info.stackId, created: false };
    const script = this.#script(spec);
    if (script.reject) throw new StackRejectedError(spec.stackName, script.reject);
    const [first = 'CREATE_IN_PROGRESS', ...rest] = script.statuses ?? [
      'CREATE_IN_PROGRESS',
      'CREATE_COMPLETE',
    ];
    const stackId = this.#newId(spec.stackName);
    this.#stacks.push({
      info: {
        stackId,
        stackName: spec.stackName,
        status: first,
        statusReason: undefined,
        createdAt: new Date(this.#clock.now()),
        deletedAt: undefined,
        tags: { ...spec.tags },
        outputs: { ...script.outputs },
      },
      script,
      pending: rest,
    });
    return { stackId, created: true };
  }

  async describe(stackNameOrId: string, signal?: AbortSignal): Promise<StackInfo | undefined> {
    signal?.throwIfAborted();
    this.calls.push({ operation: 'describe', target: stackNameOrId });
    const stack = this.#stacks.find((s) => s.info.stackId === stackNameOrId) ?? this.#live(stackNameOrId);
    if (!stack) return undefined;
    const snapshot = stack.info;
    const next = stack.pending.shift();
    if (next) stack.info = { ...stack.info, status: next };
    return snapshot;
  }

  async failureReason(stackId: string, operation: 'create' | 'delete'): Promise<string | undefined> {
    this.calls.push({ operation: 'failureReason', target: stackId });
    const stack = this.#stacks.find((s) => s.info.stackId === stackId);
    return operation === 'create' ? stack?.script.createFailure : stack?.script.deleteFailure;
  }

  async delete(stackId: string, clientRequestToken: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.calls.push({ operation: 'delete', target: stackId, token: clientRequestToken });
    const stack = this.#stacks.find((s) => s.info.stackId === stackId || s.info.stackName === stackId);
    if (!stack || stack.info.status.startsWith('DELETE_')) return;
    const [first = 'DELETE_IN_PROGRESS', ...rest] = stack.script.deleteStatuses ?? [
      'DELETE_IN_PROGRESS',
      'DELETE_COMPLETE',
    ];
    stack.info = { ...stack.info, status: first, deletedAt: new Date(this.#clock.now()) };
    stack.pending = rest;
  }

  /** The stack's current state without stepping it (for assertions). */
  peek(stackNameOrId: string): StackInfo | undefined {
    return (this.#stacks.find((s) => s.info.stackId === stackNameOrId) ?? this.#live(stackNameOrId))?.info;
  }

  #live(stackName: string): MemoryStack | undefined {
    return this.#stacks.find((s) => s.info.stackName === stackName && s.info.status !== 'DELETE_COMPLETE');
  }

  #newId(stackName: string): string {
    return `arn:aws:cloudformation:us-east-1:123456789012:stack/${stackName}/${randomUUID()}`;
  }
}
