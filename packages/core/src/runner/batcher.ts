import type { Clock, Timer } from '../ports/clock.ts';

export interface BatcherOptions<Entry, Result> {
  /** Entries per call; a full batch goes out at once. */
  readonly maxSize: number;
  /** How long the first entry of a partial batch waits for company. */
  readonly lingerMs: number;
  readonly clock: Clock;
  /** Sends one batch; answers one result per entry, in order. */
  readonly send: (entries: Entry[]) => Promise<Result[]>;
  /** Called as each batch goes out (for the `batch:sent` event). */
  readonly onSend?: (size: number) => void;
}

interface Pending<Entry, Result> {
  readonly entry: Entry;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Collects entries into batched calls: a batch goes out when it holds `maxSize` entries or
 * `lingerMs` after its first entry, whichever comes first. Jobs finishing together (the
 * common case at high concurrency) then cost one `DeleteMessageBatch` per 10 instead of
 * one `DeleteMessage` each, for a few milliseconds of latency.
 *
 * @example
 * ```ts
 * const acks = new Batcher({ maxSize: 10, lingerMs: 5, clock, send: (leases) => queue.ack(leases) });
 * const result = await acks.add(message.lease);
 * await acks.drain(); // on shutdown
 * ```
 */
export class Batcher<Entry, Result> {
  readonly #options: BatcherOptions<Entry, Result>;
  #pending: Pending<Entry, Result>[] = [];
  #timer: Timer | undefined;
  #hurried = false;
  #microtaskQueued = false;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: BatcherOptions<Entry, Result>) {
    this.#options = options;
  }

  /** Entries waiting for their batch to go out. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Queues `entry`; resolves with its result once its batch has been sent. */
  add(entry: Entry): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.#pending.push({ entry, resolve, reject });
      if (this.#pending.length >= this.#options.maxSize) this.flush();
      else if (this.#hurried) this.#flushSoon();
      else this.#timer ??= this.#options.clock.setTimer(this.#options.lingerMs, () => this.flush());
    });
  }

  /** Sends everything waiting now, in batches of at most `maxSize`. */
  flush(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#options.maxSize);
      const sent = this.#sendBatch(batch);
      this.#inFlight.add(sent);
      void sent.finally(() => this.#inFlight.delete(sent));
    }
  }

  /**
   * From now on a partial batch goes out at the end of the current microtask turn instead
   * of after the linger: at shutdown, entries settled together still share a call, but
   * nothing waits on a timer.
   */
  hurry(): void {
    this.#hurried = true;
    if (this.#pending.length > 0) this.#flushSoon();
  }

  /** Back to lingering for company after `hurry()` (the urgent moment has passed). */
  relax(): void {
    this.#hurried = false;
  }

  /** Flushes, then waits until every batch sent so far has been answered. */
  async drain(): Promise<void> {
    this.flush();
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  #flushSoon(): void {
    if (this.#microtaskQueued) return;
    this.#microtaskQueued = true;
    queueMicrotask(() => {
      this.#microtaskQueued = false;
      this.flush();
    });
  }

  async #sendBatch(batch: Pending<Entry, Result>[]): Promise<void> {
    this.#options.onSend?.(batch.length);
    try {
      const results = await this.#options.send(batch.map((p) => p.entry));
      batch.forEach((p, i) => {
        const result = results[i];
        if (result === undefined)
          p.reject(new Error(`batch answered ${results.length} results for ${batch.length}`));
        else p.resolve(result);
      });
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
