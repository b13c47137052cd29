// A model runtime for tests: the example models plus the test models, an in-process
// dispatcher and a recording logger, so a test can run any task and read what was logged.
import type { Clock } from '@spotjobs/core';
import { type LogLine, recordingLogger } from '@spotjobs/core/testing';
import {
  InProcessDispatcher,
  type InProcessDispatcherOptions,
} from '../../src/dispatch/in-process-dispatcher.ts';
import { exampleModels } from '../../src/examples/example-models.ts';
import {
  createModelContext,
  type ModelContext,
  type ModelEnvironment,
} from '../../src/model/model-context.ts';
import { ModelRegistry } from '../../src/model/model-registry.ts';
import { ResolverContext, type ResolverValue } from '../../src/model/resolver-context.ts';
import { testModels } from './test-models.ts';

export interface TestRuntime {
  readonly environment: ModelEnvironment;
  readonly dispatcher: InProcessDispatcher;
  readonly registry: ModelRegistry;
  readonly lines: LogLine[];
  /** A context for constructing a model directly (its dispatcher is the in-process one). */
  context(
    modelClass: string,
    options?: {
      taskId?: string;
      resolver?: Record<string, ResolverValue>;
      signal?: AbortSignal;
      attempt?: number;
    },
  ): ModelContext;
}

export function testRuntime(
  options: Partial<Omit<InProcessDispatcherOptions, 'registry' | 'logger'>> & { clock?: Clock } = {},
): TestRuntime {
  const registry = ModelRegistry.of([...exampleModels, ...testModels]);
  const logger = recordingLogger();
  const dispatcher = new InProcessDispatcher({ registry, logger, maxConcurrentSubtasks: 8, ...options });
  const environment: ModelEnvironment = {
    registry,
    logger,
    dispatcher,
    ...(options.clock && { clock: options.clock }),
    ...(options.datasets && { datasets: options.datasets }),
  };
  return {
    environment,
    dispatcher,
    registry,
    lines: logger.lines,
    context: (modelClass, run = {}) =>
      createModelContext(environment, {
        taskId: run.taskId ?? 'tasks',
        modelClass,
        ...(run.attempt !== undefined && { attempt: run.attempt }),
        ...(run.signal && { signal: run.signal }),
        resolver: ResolverContext.from(run.resolver ?? {}),
      }),
  };
}

/** A random id, so concurrent tests never share a probe or a task id. */
export function uniqueId(prefix = 't'): string {
  return `${prefix}${Math.random().toString(36).slice(2, 10)}`;
}
