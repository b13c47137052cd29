import { AbortedError } from '../../src/errors.ts';
import type { Clock, Timer } from '../../src/ports/clock.ts';
import type {
  ConsumeOptions,
  LeaseExtension,
  LeaseRelease,
  LeaseResult,
  OutgoingMessage,
  Queue,
  QueueDepth,
  QueueMessage,
  ReceiveOptions,
} from '../../src/ports/queue.ts';

interface StoredMessage {
  readonly id: string;
  readonly body: string;
  readonly attributes: Record<string, string>;
  readonly sentAt: number;
  receiveCount: number;
  /** Wall-clock ms from which it can be received (SQS's clock runs on while a host sleeps). */
  visibleAt: number;
  lease: string | undefined;
}

/** One call the runner made, for assertions on batching. */
export interface QueueCall {
  readonly op: 'receive' | 'extend' | 'release' | 'ack' | 'deadLetter';
  readonly size: number;
}

/**
 * An in-memory `Queue` on a `ManualClock`, for unit tests of the runner's edge cases.
 * SQS-like: visibility, receive counts, new lease per delivery, stale leases. Not a
 * conformance-tested adapter; the integration tests use the real ones.
 */
export class FakeQueue implements Queue {
  readonly name: string;
  readonly calls: QueueCall[] = [];
  readonly deadLetters: { message: QueueMessage; reason: string }[] = [];
  /** Set to make the next calls of an operation answer differently. */
  extendHook: ((entries: readonly LeaseExtension[]) => Promise<LeaseResult[]> | undefined) | undefined;
  ackHook: ((leases: readonly string[]) => Promise<LeaseResult[]> | undefined) | undefined;

  readonly #clock: Clock;
  readonly #messages = new Map<string, StoredMessage>();
  #seq = 0;
  #wakers = new Set<() => void>();
  #wakeTimer: Timer | undefined;

  constructor(clock: Clock, name = 'fake') {
    this.#clock = clock;
    this.name = name;
  }

  /** Sends JSON-encodable bodies (strings are sent as they are). */
  async sendBodies(bodies: readonly unknown[]): Promise<string[]> {
    return this.send(bodies.map((b) => ({ body: typeof b === 'string' ? b : JSON.stringify(b) })));
  }

  async send(messages: readonly OutgoingMessage[]): Promise<string[]> {
    const ids = messages.map((m) => {
      const id = `m${++this.#seq}`;
      this.#messages.set(id, {
        id,
        body: m.body,
        attributes: { ...(m.attributes ?? {}) },
        sentAt: this.#clock.now(),
        receiveCount: 0,
        visibleAt: this.#clock.now() + (m.delaySeconds ?? 0) * 1000,
        lease: undefined,
      });
      return id;
    });
    this.#wake();
    return ids;
  }

  async receive(options: ReceiveOptions, signal?: AbortSignal): Promise<QueueMessage[]> {
    if (signal?.aborted) throw new AbortedError({ cause: signal.reason });
    const now = this.#clock.now();
    const out: QueueMessage[] = [];
    for (const m of this.#messages.values()) {
      if (out.length >= options.maxMessages) break;
      if (m.visibleAt > now) continue;
      m.receiveCount++;
      m.lease = `${m.id}#${m.receiveCount}`;
      m.visibleAt = now + options.visibilitySeconds * 1000;
      out.push(this.#view(m));
    }
    this.calls.push({ op: 'receive', size: out.length });
    this.#armWake();
    return out;
  }

  async consume(options: ConsumeOptions): Promise<void> {
    const { signal } = options;
    while (!signal.aborted) {
      let capacity: number;
      try {
        capacity = await options.capacity(signal);
      } catch (error) {
        if (signal.aborted) return;
        throw error;
      }
      const messages = await this.receive({
        maxMessages: Math.min(10, capacity),
        visibilitySeconds: options.visibilitySeconds,
        waitSeconds: options.waitSeconds,
      });
      if (signal.aborted && messages.length === 0) return;
      if (messages.length > 0) options.deliver(messages);
      else await this.#waitForWork(signal, options.waitSeconds * 1000);
    }
  }

  async extend(entries: readonly LeaseExtension[]): Promise<LeaseResult[]> {
    this.calls.push({ op: 'extend', size: entries.length });
    const hooked = this.extendHook?.(entries);
    if (hooked) return hooked;
    return entries.map((e) => this.#setVisibility(e.lease, e.visibilitySeconds));
  }

  async release(entries: readonly LeaseRelease[]): Promise<LeaseResult[]> {
    this.calls.push({ op: 'release', size: entries.length });
    const results = entries.map((e) => this.#setVisibility(e.lease, e.delaySeconds));
    this.#wake();
    return results;
  }

  async ack(leases: readonly string[]): Promise<LeaseResult[]> {
    this.calls.push({ op: 'ack', size: leases.length });
    const hooked = this.ackHook?.(leases);
    if (hooked) return hooked;
    return leases.map((lease) => {
      const m = this.#byLease(lease);
      if (m) this.#messages.delete(m.id);
      return { lease, ok: true as const };
    });
  }

  async deadLetter(message: QueueMessage, reason: string): Promise<void> {
    this.calls.push({ op: 'deadLetter', size: 1 });
    this.deadLetters.push({ message, reason });
    this.#messages.delete(message.id);
  }

  async depth(): Promise<QueueDepth> {
    const now = this.#clock.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of this.#messages.values()) {
      if (m.visibleAt <= now) visible++;
      else if (m.lease) inFlight++;
      else delayed++;
    }
    return { visible, inFlight, delayed };
  }

  /** The message as stored (receive count, visibility), for assertions. */
  peek(id: string): { receiveCount: number; visibleInMs: number; lease: string | undefined } | undefined {
    const m = this.#messages.get(id);
    return (
      m && {
        receiveCount: m.receiveCount,
        visibleInMs: m.visibleAt - this.#clock.now(),
        lease: m.lease,
      }
    );
  }

  /**
   * Another consumer receives message `id` now (as after this host's lease ran out): a new
   * lease and receive count, so the old lease is stale. Answers the new lease.
   */
  takeOver(id: string, visibilitySeconds = 30): string {
    const m = this.#messages.get(id);
    if (!m) throw new Error(`no message ${id}`);
    m.receiveCount++;
    m.lease = `${m.id}#${m.receiveCount}`;
    m.visibleAt = this.#clock.now() + visibilitySeconds * 1000;
    return m.lease;
  }

  /** Messages still stored (not acked or dead-lettered). */
  get size(): number {
    return this.#messages.size;
  }

  count(op: QueueCall['op']): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  sizes(op: QueueCall['op']): number[] {
    return this.calls.filter((c) => c.op === op).map((c) => c.size);
  }

  #setVisibility(lease: string, seconds: number): LeaseResult {
    const m = this.#byLease(lease);
    // Superseded by a newer delivery, deleted, or no longer in flight: SQS answers an error.
    if (!m || m.visibleAt <= this.#clock.now()) return { lease, ok: false, reason: 'stale' };
    m.visibleAt = this.#clock.now() + seconds * 1000;
    return { lease, ok: true };
  }

  #byLease(lease: string): StoredMessage | undefined {
    for (const m of this.#messages.values()) if (m.lease === lease) return m;
    return undefined;
  }

  #view(m: StoredMessage): QueueMessage {
    return {
      id: m.id,
      body: m.body,
      lease: m.lease ?? '',
      receiveCount: m.receiveCount,
      sentAt: m.sentAt,
      attributes: { ...m.attributes },
    };
  }

  /** A long poll: wakes on a send, a release, the next visibility expiry, or after `waitMs`. */
  #waitForWork(signal: AbortSignal, waitMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.#clock.setTimer(waitMs, () => done());
      const done = () => {
        timer.cancel();
        this.#wakers.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#wakers.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  #armWake(): void {
    this.#wakeTimer?.cancel();
    const now = this.#clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const m of this.#messages.values()) if (m.visibleAt > now) next = Math.min(next, m.visibleAt);
    if (next !== Number.POSITIVE_INFINITY)
      this.#wakeTimer = this.#clock.setTimer(next - now, () => this.#wake());
  }

  #wake(): void {
    for (const waker of [...this.#wakers]) waker();
  }
}
