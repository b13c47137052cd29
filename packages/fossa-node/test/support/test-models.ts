// Models that exercise the runtime. Subtask instances are created by the dispatcher, so what
// they do is observed through a `Probe` (looked up by an id the test passes in the kwargs),
// through the parent's own fields, or through the log lines.
import type { JsonObject, JsonValue } from '@spotjobs/core';
import { Model } from '../../src/model/model.ts';
import type { ModelClass } from '../../src/model/model-registry.ts';
import {
  PartitionedModel,
  type PartitionOption,
  type SubtaskSlice,
} from '../../src/model/partitioned-model.ts';
import type { TaskFailedPayload } from '../../src/model/task-messages.ts';

/** What the subtasks of one test did. */
export class Probe {
  running = 0;
  maxRunning = 0;
  readonly started: string[] = [];
  readonly aborted: string[] = [];
  readonly finished: string[] = [];
  #open!: () => void;
  /** Resolves when the test calls `open()`: subtasks that wait on it hold their slot until then. */
  readonly gate = new Promise<void>((resolve) => {
    this.#open = resolve;
  });

  open(): void {
    this.#open();
  }
}

const probes = new Map<string, Probe>();

export function newProbe(id: string): Probe {
  const probe = new Probe();
  probes.set(id, probe);
  return probe;
}

function probeOf(kwargs: JsonObject): Probe {
  const probe = probes.get(String(kwargs.probe));
  if (!probe) throw new Error(`no probe ${String(kwargs.probe)}`);
  return probe;
}

/** Records the order of its lifecycle steps; kwargs `pre`/`post` false fail a check, `fail` 'build' throws; `out` is a dataset it starts writing in build. */
export class Lifecycle extends Model {
  readonly calls: string[] = [];

  override async pre_build_check(): Promise<boolean> {
    this.calls.push('pre_build_check');
    return this.kwargs.pre !== false;
  }

  override async build(): Promise<void> {
    this.calls.push('build');
    if (typeof this.kwargs.out === 'string') {
      const writer = await this.dataset(this.kwargs.out).openWriter();
      await writer.add({ step: 'build' }); // left open: close_datasets publishes it
    }
    this.stats.count('rows', 3);
    if (this.kwargs.fail === 'build') throw new TypeError('build broke');
  }

  override post_build_check(): boolean {
    this.calls.push('post_build_check');
    return this.kwargs.post !== false;
  }
}

/** Subtasks `echo({ i })` answer what they saw (task id, attempt, resolver's `region`); the parent collects them. */
export class Collector extends PartitionedModel {
  static override readonly methods = [...PartitionedModel.methods, 'echo'];
  readonly collected: JsonValue[] = [];
  readonly calls: string[] = [];

  override partition_plea(): PartitionOption {
    const workers = typeof this.kwargs.workers === 'number' ? this.kwargs.workers : 16;
    return { minimum: 1, maximum: workers, optimal: workers };
  }

  override build(): void {
    this.calls.push('build');
  }

  override partition_slice(partition_count: number): SubtaskSlice[] {
    this.calls.push(`partition_slice(${partition_count})`);
    const count = typeof this.kwargs.count === 'number' ? this.kwargs.count : 3;
    return Array.from({ length: count }, (_, i) => ['echo', { i }] as const);
  }

  override partition_initialise(kwargs: JsonObject): void {
    this.calls.push(`partition_initialise(${JSON.stringify(kwargs)})`);
  }

  override partition_subtask_complete(method: string, kwargs: JsonObject, value: JsonValue): void {
    this.collected.push({ method, kwargs, value });
  }

  override partition_complete(): void {
    this.calls.push('partition_complete');
  }

  echo({ i }: JsonObject): JsonObject {
    this.stats.count('echoes');
    return {
      i: i ?? null,
      task: this.context.taskId,
      attempt: this.context.attempt,
      region: this.resolver.get('region') ?? null,
      initialised: this.calls.find((call) => call.startsWith('partition_initialise')) ?? null,
    };
  }
}

/**
 * Subtasks `hold({ i })` count how many run at once and wait for the probe's gate (or an
 * abort); subtask `fail_index` fails at once.
 */
export class Holder extends PartitionedModel {
  static override readonly methods = [...PartitionedModel.methods, 'hold'];

  override partition_plea(): PartitionOption {
    const workers = Number(this.kwargs.workers ?? 16);
    return { minimum: 1, maximum: workers, optimal: workers };
  }

  override build(): void {}

  override partition_slice(): SubtaskSlice[] {
    const count = Number(this.kwargs.count ?? 4);
    // A tuple slice would construct the subtask with no kwargs (Aye-Aye's rule): pass ours on.
    return Array.from({ length: count }, (_, i) => ({
      method: 'hold',
      method_kwargs: { i },
      model_construction_kwargs: this.kwargs,
    }));
  }

  async hold({ i }: JsonObject): Promise<number> {
    const probe = probeOf(this.kwargs);
    const { taskId } = this.context;
    if (i === this.kwargs.fail_index) throw new RangeError(`subtask ${String(i)} refuses`);
    probe.started.push(taskId);
    probe.running++;
    probe.maxRunning = Math.max(probe.maxRunning, probe.running);
    try {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(this.signal.reason);
        if (this.signal.aborted) return onAbort();
        this.signal.addEventListener('abort', onAbort, { once: true });
        void probe.gate.then(resolve);
      });
      probe.finished.push(taskId);
      return i as number;
    } catch (err) {
      probe.aborted.push(taskId);
      throw err;
    } finally {
      probe.running--;
    }
  }
}

/** Runs `Cities` (itself partitioned) once per region: nested partitions. */
export class Regions extends PartitionedModel {
  static override readonly methods = [...PartitionedModel.methods];
  readonly regions: JsonValue[] = [];

  override build(): void {}

  override partition_slice(): SubtaskSlice[] {
    return ['north', 'south'].map((region) => ({
      model_class: Cities,
      method: 'go',
      model_construction_kwargs: {
        region,
        fail_city: this.kwargs.fail_city ?? null,
        probe: this.kwargs.probe ?? null,
      },
    }));
  }

  override partition_subtask_complete(_method: string, _kwargs: JsonObject, value: JsonValue): void {
    this.regions.push(value);
  }
}

const CITIES: Readonly<Record<string, readonly string[]>> = { north: ['a', 'b', 'c'], south: ['d', 'e'] };

/** Visits each city of its region in a subtask; the subtask for `fail_city` fails. */
export class Cities extends PartitionedModel {
  static override readonly methods = [...PartitionedModel.methods, 'visit'];

  override build(): void {}

  override partition_slice(): SubtaskSlice[] {
    const fail = this.kwargs.fail_city ?? null;
    return (CITIES[String(this.kwargs.region)] ?? []).map((city) => ['visit', { city, fail }] as const);
  }

  visit({ city, fail }: JsonObject): string {
    if (city === fail) throw new Error(`cannot visit ${String(city)}`);
    this.stats.count('cities.visited');
    this.log(`visited ${String(city)} with suffix ${String(this.resolver.get('suffix'))}`);
    return `${String(city)}${String(this.resolver.get('suffix') ?? '')}`;
  }
}

/** Overrides `partition_subtask_failed` to log and carry on: odd subtasks fail, the parent completes. */
export class Tolerant extends PartitionedModel {
  static override readonly methods = [...PartitionedModel.methods, 'maybe'];
  readonly failures: TaskFailedPayload[] = [];
  completed = 0;

  override build(): void {}

  override partition_slice(): SubtaskSlice[] {
    return [0, 1, 2, 3].map((i) => ['maybe', { i }] as const);
  }

  override partition_subtask_complete(): void {
    this.completed++;
  }

  override partition_subtask_failed(failure: TaskFailedPayload): void {
    this.failures.push(failure);
    this.log(`subtask ${failure.task_id} failed, carrying on`, 'WARNING');
  }

  maybe({ i }: JsonObject): number {
    if ((i as number) % 2 === 1) throw new Error(`odd ${String(i)}`);
    return i as number;
  }
}

/** Partitions itself badly, as kwargs `mode` says: a bad plea, an unlisted method or class, a non-JSON kwarg. */
export class BadPartition extends PartitionedModel {
  static override readonly methods = [...PartitionedModel.methods, 'fine'];

  override partition_plea(): PartitionOption {
    if (this.kwargs.mode === 'plea') return { minimum: 3, maximum: 1, optimal: 2 };
    return super.partition_plea() as PartitionOption;
  }

  override build(): void {}

  override partition_slice(): SubtaskSlice[] {
    switch (this.kwargs.mode) {
      case 'method':
        return [
          ['fine', {}],
          ['build', {}],
        ];
      case 'class':
        return [{ model_class: 'NotAccepted', method: 'go' }];
      case 'kwargs':
        return [['fine', { n: 1n } as unknown as JsonObject]];
      case 'unregistered':
        return [{ model_class: Unregistered, method: 'go' }];
      case 'null':
        return [['fine', {}], null as unknown as SubtaskSlice];
      default:
        return [['fine', {}]];
    }
  }

  fine(): string {
    return 'fine';
  }
}

/** A model on no allow-list. */
class Unregistered extends Model {
  override build(): void {}
}

/** One subtask that sleeps for an hour (until aborted): for subtask timeouts. */
export class Sleeper extends PartitionedModel {
  static override readonly methods = [...PartitionedModel.methods, 'nap'];

  override build(): void {}

  override partition_slice(): SubtaskSlice[] {
    return [['nap', {}]];
  }

  async nap(): Promise<void> {
    await this.context.clock.sleep(3_600_000, this.signal);
  }
}

/** Methods whose return value is not JSON, and one not listed. */
export class Awkward extends Model {
  static override readonly methods = [...Model.methods, 'big', 'nothing', 'pair'];

  override build(): void {}

  big(): bigint {
    return 1n;
  }

  nothing(): undefined {
    return undefined;
  }

  pair({ a }: JsonObject): readonly [JsonValue, number] {
    return [a ?? null, 2] as const;
  }

  hidden(): string {
    return 'never callable by name';
  }
}

export const testModels: readonly ModelClass[] = [
  Lifecycle,
  Collector,
  Holder,
  Regions,
  Cities,
  Tolerant,
  BadPartition,
  Sleeper,
  Awkward,
];
