import { AbortedError, type Clock, systemClock, ValidationError } from '@spotjobs/core';
import type { EcsTaskView } from '../web/read-model.ts';
import type { EcsTaskLister } from './ecs-task-lister.ts';

/**
 * Shares one ECS listing between page views for `ttlMs`: every page of the gateway lists the
 * tasks, and ECS throttles `ListTasks`/`DescribeTasks` per account, so a few people refreshing
 * must not turn into a stream of API calls. Concurrent requests share the call in flight; a
 * failed call is not kept, so the next view tries again.
 *
 * @example
 * ```ts
 * const ecs = new CachedEcsTaskLister(new AwsEcsTaskLister({ client, cluster }), { ttlMs: 5_000 });
 * ```
 */
export class CachedEcsTaskLister implements EcsTaskLister {
  readonly #inner: EcsTaskLister;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  #cached: { at: number; tasks: EcsTaskView[] } | undefined;
  #inFlight: Promise<EcsTaskView[]> | undefined;

  constructor(inner: EcsTaskLister, options: { readonly ttlMs?: number; readonly clock?: Clock } = {}) {
    this.#ttlMs = options.ttlMs ?? 5_000;
    if (!Number.isFinite(this.#ttlMs) || this.#ttlMs < 0)
      throw new ValidationError('invalid ECS listing cache options', ['ttlMs must be ≥ 0']);
    this.#inner = inner;
    this.#clock = options.clock ?? systemClock;
  }

  async list(signal: AbortSignal): Promise<EcsTaskView[]> {
    const cached = this.#cached;
    if (cached && this.#clock.monotonic() - cached.at < this.#ttlMs) return cached.tasks;
    // The shared call runs without any one viewer's signal, so one viewer leaving does not fail
    // the others; each viewer still stops waiting when its own signal aborts.
    this.#inFlight ??= this.#refresh();
    return abortable(this.#inFlight, signal);
  }

  async #refresh(): Promise<EcsTaskView[]> {
    try {
      const tasks = await this.#inner.list(AbortSignal.timeout(30_000));
      this.#cached = { at: this.#clock.monotonic(), tasks };
      return tasks;
    } finally {
      this.#inFlight = undefined;
    }
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new AbortedError({ cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError({ cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
