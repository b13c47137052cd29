import type {
  InterruptionNotice,
  InterruptionSource,
  WatchOptions,
} from '../../src/ports/interruption-source.ts';

/** A notice whose `source` the test source fills in (distributes over the union's kinds). */
export type TestNotice = InterruptionNotice extends infer N
  ? N extends InterruptionNotice
    ? Omit<N, 'source'> & { readonly source?: string }
    : never
  : never;

/**
 * A tiny interruption source for runner unit tests: `emit` hands a notice to the watcher
 * and answers what `notify` returned (resolved once the runner's reaction is complete).
 */
export class TestInterruptionSource implements InterruptionSource {
  readonly name: string;
  #watcher: WatchOptions | undefined;
  /** Whether the runner is watching now. */
  watching = false;

  constructor(name = 'test') {
    this.name = name;
  }

  watch(options: WatchOptions): Promise<void> {
    this.#watcher = options;
    this.watching = true;
    return new Promise((resolve) => {
      options.signal.addEventListener(
        'abort',
        () => {
          this.watching = false;
          this.#watcher = undefined;
          resolve();
        },
        { once: true },
      );
    });
  }

  /** Delivers a notice (this source's name filled in); resolves once the runner has acted on it. */
  emit(notice: TestNotice): Promise<void> {
    const watcher = this.#watcher;
    if (!watcher) throw new Error(`${this.name} is not being watched`);
    return Promise.resolve(watcher.notify({ source: this.name, ...notice } as InterruptionNotice));
  }

  fail(error: Error): void {
    this.#watcher?.onError(error);
  }
}
