/** Event name → listener argument tuple (works with interfaces, which have no index signature). */
export type EventMap<Events> = { [E in keyof Events]: unknown[] };

/** A listener for `E` of `Events`. */
export type Listener<Events extends EventMap<Events>, E extends keyof Events> = (...args: Events[E]) => void;

/**
 * A small synchronous, typed event emitter. Unlike `node:events`, a listener that throws
 * never breaks the emitter's owner: the error goes to `onListenerError` (the runner logs
 * it), because a metrics subscriber's bug must not stop jobs from being acked.
 *
 * @example
 * ```ts
 * const events = new TypedEmitter<{ tick: [n: number] }>();
 * const off = events.on('tick', (n) => console.log(n));
 * events.emit('tick', 1);
 * off();
 * ```
 */
export class TypedEmitter<Events extends EventMap<Events>> {
  // Listeners of different events have different types; each is cast back on the way out.
  readonly #listeners = new Map<keyof Events, Set<unknown>>();
  readonly #onListenerError: (error: unknown, event: keyof Events) => void;

  constructor(onListenerError: (error: unknown, event: keyof Events) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  /** Subscribes; answers a function that unsubscribes. */
  on<E extends keyof Events>(event: E, listener: Listener<Events, E>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Subscribes for the next emission only. */
  once<E extends keyof Events>(event: E, listener: Listener<Events, E>): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  off<E extends keyof Events>(event: E, listener: Listener<Events, E>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    // Copy: a listener may unsubscribe (once) while we iterate.
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events, E>)(...args);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
  }

  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }
}
