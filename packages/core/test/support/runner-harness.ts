import type { StandardSchemaV1 } from '@standard-schema/spec';
import { Runner } from '../../src/runner/runner.ts';
import type { RunnerEvents } from '../../src/runner/runner-events.ts';
import type {
  RunnerSettings,
  SingleJobRunnerOptions,
  TypedRunnerOptions,
} from '../../src/runner/runner-options.ts';
import { ManualClock } from '../../src/testing/manual-clock.ts';
import { type LogLine, recordingLogger } from '../../src/testing/recording-logger.ts';
import { FakeQueue } from './fake-queue.ts';

export const runnerEventNames = [
  'state',
  'polled',
  'job:started',
  'job:succeeded',
  'job:retried',
  'job:dead-lettered',
  'job:released',
  'job:stuck',
  'lease:lost',
  'claim:lost',
  'job:duplicate',
  'job:deferred',
  'job:checkpointed',
  'interruption',
  'interruption:handled',
  'leases:revalidated',
  'batch:sent',
  'task:ran',
  'error',
] as const satisfies readonly (keyof RunnerEvents)[];

export type RecordedEvent = {
  [E in keyof RunnerEvents]: { name: E; args: RunnerEvents[E] };
}[keyof RunnerEvents];

type Extra = Omit<RunnerSettings, 'queue' | 'clock' | 'logger'>;

export interface Harness {
  readonly clock: ManualClock;
  readonly queue: FakeQueue;
  readonly runner: Runner;
  readonly logs: LogLine[];
  readonly events: RecordedEvent[];
  /** The promise of `runner.run()`, once started. */
  running: Promise<void> | undefined;
  /** Events named `name`, their first argument each. */
  of<E extends keyof RunnerEvents>(name: E): RunnerEvents[E][0][];
  /** Lets pending promises settle without moving time. */
  settle(): Promise<void>;
}

async function build(
  create: (
    clock: ManualClock,
    queue: FakeQueue,
    logger: ReturnType<typeof recordingLogger>,
  ) => Promise<Runner>,
): Promise<Harness> {
  const clock = new ManualClock();
  const queue = new FakeQueue(clock, 'unit-queue');
  const logger = recordingLogger();
  const runner = await create(clock, queue, logger);
  const events: RecordedEvent[] = [];
  for (const name of runnerEventNames) {
    runner.on(name, (...args: unknown[]) => events.push({ name, args } as RecordedEvent));
  }
  const harness: Harness = {
    clock,
    queue,
    runner,
    logs: logger.lines,
    events,
    running: undefined,
    of: (name) => events.filter((e) => e.name === name).map((e) => e.args[0]) as never,
    settle: () => clock.advance(0),
  };
  return harness;
}

/** A runner with typed routes on a fake queue and a manual clock; not started. */
export function typedHarness<Schemas extends Record<string, StandardSchemaV1>>(
  options: Extra & Pick<TypedRunnerOptions<Schemas>, 'jobs'>,
): Promise<Harness> {
  return build((clock, queue, logger) =>
    Runner.create<Schemas>({ pollLingerMs: 0, ...options, queue, clock, logger }),
  );
}

/** A runner with a single job on a fake queue and a manual clock; not started. */
export function singleHarness<Schema extends StandardSchemaV1>(
  options: Extra & Pick<SingleJobRunnerOptions<Schema>, 'job'>,
): Promise<Harness> {
  return build((clock, queue, logger) =>
    Runner.create<Schema>({ pollLingerMs: 0, ...options, queue, clock, logger }),
  );
}

/** A promise with its resolvers, for handlers the test finishes by hand. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves when `signal` aborts, with its reason. */
export function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });
}
