import { randomUUID } from 'node:crypto';
import { throwIfAborted, ValidationError } from '../../errors.ts';
import { deadLetterAttributes } from '../../ports/dead-letter-attributes.ts';
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
} from '../../ports/queue.ts';
import { QueueLimits } from '../../ports/queue.ts';
import {
  assertConsumeOptions,
  assertDeadLetter,
  assertLeaseChanges,
  assertLeases,
  assertOutgoingMessages,
  assertReceiveOptions,
} from '../../ports/queue-validation.ts';
import type { LocalContext } from './local-context.ts';
import { ringQueue, waitForRing, wakeupKey } from './queue-wakeups.ts';

/** Options of `LocalStore.queue`. */
export interface LocalQueueOptions {
  /** Where `deadLetter` moves messages (default `${name}-dlq`). */
  readonly deadLetterQueue?: string;
  /** How often a waiting poll looks for messages sent by other processes (default 50 ms). */
  readonly pollIntervalMs?: number;
}

const DEFAULT_POLL_INTERVAL_MS = 50;
const MAX_BACKOFF_MS = 10_000;

interface MessageRow {
  readonly seq: number;
  readonly id: string;
  readonly body: string;
  readonly attributes: string;
  readonly sent_at: number;
  readonly receive_count: number;
  readonly lease_token: string;
}

// A lease is `<seq>.<token>`: the row's primary key plus a random token drawn anew on every
// delivery. A redelivery replaces the token, so an older lease no longer matches its row: that
// is how extend/release detect a stale lease, and why ack with one deletes nothing.
const LEASE = /^(\d{1,15})\.([0-9a-f]{32})$/;

const SQL = {
  insert: `INSERT INTO queue_messages (queue, id, body, attributes, sent_at, visible_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
  take: `UPDATE queue_messages
         SET lease_token = lower(hex(randomblob(16))), visible_at = ?, receive_count = receive_count + 1
         WHERE seq IN (SELECT seq FROM queue_messages WHERE queue = ? AND visible_at <= ?
                       ORDER BY visible_at, seq LIMIT ?)
         RETURNING seq, id, body, attributes, sent_at, receive_count, lease_token`,
  setVisibleAt: 'UPDATE queue_messages SET visible_at = ? WHERE seq = ? AND queue = ? AND lease_token = ?',
  delete: 'DELETE FROM queue_messages WHERE seq = ? AND queue = ? AND lease_token = ?',
  deleteReturning: `DELETE FROM queue_messages WHERE seq = ? AND queue = ? AND lease_token = ?
                    RETURNING id, body, attributes, sent_at, receive_count`,
  // The backlog is counted on the index alone; only hidden rows (usually few) are read.
  depth: `SELECT (SELECT COUNT(*) FROM queue_messages WHERE queue = ?1 AND visible_at <= ?2) AS visible,
                 COALESCE(SUM(receive_count > 0), 0) AS in_flight,
                 COALESCE(SUM(receive_count = 0), 0) AS delayed
          FROM queue_messages WHERE queue = ?1 AND visible_at > ?2`,
} as const;

/**
 * `Queue` on the local SQLite database: durable, at-least-once, shared by every process that
 * opens the same data dir. Visibility follows the store's `Clock` (wall time, epoch ms).
 * Obtain one from `LocalStore.queue`.
 *
 * Long polls wake at once on a send from this process and re-check every `pollIntervalMs` for
 * sends of other processes and for leases running out:
 *
 * ```
 * receive(wait 20 s) ──take: none──┬─ ring (send here) ──take──> [msg]
 *                                  └─ every pollIntervalMs ──take──> ...
 * ```
 *
 * @example
 * ```ts
 * const store = await openLocalStore({ dataDir: '/var/lib/spotjobs' });
 * const jobs = store.queue('jobs');
 * await jobs.send([{ body: '{"n":1}' }]);
 * const [msg] = await jobs.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 1 });
 * if (msg) await jobs.ack([msg.lease]);
 * ```
 */
export class LocalQueue implements Queue {
  readonly name: string;
  /** The name of the queue `deadLetter` writes to. */
  readonly deadLetterQueue: string;
  readonly #context: LocalContext;
  readonly #pollIntervalMs: number;
  readonly #wakeupKey: string;

  constructor(context: LocalContext, name: string, options: LocalQueueOptions = {}) {
    assertQueueName(name);
    const deadLetterQueue = options.deadLetterQueue ?? `${name}-dlq`;
    assertQueueName(deadLetterQueue);
    if (deadLetterQueue === name)
      throw new ValidationError(`queue ${name} cannot be its own dead-letter queue`);
    const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 1 || pollIntervalMs > 60_000) {
      throw new ValidationError('invalid pollIntervalMs', ['pollIntervalMs must be from 1 to 60000']);
    }
    this.name = name;
    this.deadLetterQueue = deadLetterQueue;
    this.#context = context;
    this.#pollIntervalMs = pollIntervalMs;
    this.#wakeupKey = wakeupKey(context.db.path, name);
  }

  async send(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<string[]> {
    assertOutgoingMessages(messages);
    throwIfAborted(signal);
    if (messages.length === 0) return [];
    const now = this.#context.clock.now();
    const ids = this.#context.run(`send to ${this.name}`, (db) =>
      db.transaction(() => {
        const insert = db.statement(SQL.insert);
        return messages.map((message) => {
          const id = randomUUID();
          const visibleAt = now + (message.delaySeconds ?? 0) * 1000;
          insert.run(this.name, id, message.body, JSON.stringify(message.attributes ?? {}), now, visibleAt);
          return id;
        });
      }),
    );
    if (messages.some((message) => !message.delaySeconds)) ringQueue(this.#wakeupKey);
    return ids;
  }

  async receive(options: ReceiveOptions, signal?: AbortSignal): Promise<QueueMessage[]> {
    assertReceiveOptions(options);
    return this.#poll(options.maxMessages, options.visibilitySeconds, options.waitSeconds * 1000, signal);
  }

  /**
   * Polls until `options.signal` aborts or the store closes. A batch taken is always delivered,
   * even when the abort lands while it is handed over: dropping it would hide its messages for a
   * whole visibility timeout. With `waitSeconds: 0` an empty poll still waits one poll interval,
   * so an idle consumer does not spin.
   */
  async consume(options: ConsumeOptions): Promise<void> {
    assertConsumeOptions(options);
    const { signal, capacity, deliver, onError, visibilitySeconds, waitSeconds, mayReceive } = options;
    const clock = this.#context.clock;
    const waitMs = Math.max(waitSeconds * 1000, this.#pollIntervalMs);
    let failures = 0;
    while (!signal.aborted && !this.#context.closed.aborted) {
      try {
        const free = await capacity(signal);
        if (signal.aborted) break;
        const max = Math.min(QueueLimits.maxBatch, Math.max(1, Math.floor(Number(free) || 1)));
        const messages = await this.#poll(max, visibilitySeconds, waitMs, signal, mayReceive);
        failures = 0;
        if (messages.length > 0) deliver(messages);
      } catch (err) {
        if (signal.aborted || this.#context.closed.aborted) break;
        onError(err instanceof Error ? err : new Error(String(err)));
        failures++;
        try {
          await clock.sleep(Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(failures, 6)), signal);
        } catch {
          break;
        }
      }
    }
  }

  async extend(entries: readonly LeaseExtension[], signal?: AbortSignal): Promise<LeaseResult[]> {
    assertLeaseChanges(entries, 'visibilitySeconds');
    throwIfAborted(signal);
    const results = this.#setVisibility(
      entries.map((entry) => ({ lease: entry.lease, seconds: entry.visibilitySeconds })),
      'extend',
    );
    if (entries.some((entry, i) => entry.visibilitySeconds === 0 && results[i]?.ok))
      ringQueue(this.#wakeupKey);
    return results;
  }

  async release(entries: readonly LeaseRelease[], signal?: AbortSignal): Promise<LeaseResult[]> {
    assertLeaseChanges(entries, 'delaySeconds');
    throwIfAborted(signal);
    const results = this.#setVisibility(
      entries.map((entry) => ({ lease: entry.lease, seconds: entry.delaySeconds })),
      'release',
    );
    if (entries.some((entry, i) => entry.delaySeconds === 0 && results[i]?.ok)) ringQueue(this.#wakeupKey);
    return results;
  }

  async ack(leases: readonly string[], signal?: AbortSignal): Promise<LeaseResult[]> {
    assertLeases(leases);
    throwIfAborted(signal);
    if (leases.length === 0) return [];
    this.#context.run(`ack on ${this.name}`, (db) =>
      db.transaction(() => {
        const remove = db.statement(SQL.delete);
        for (const lease of leases) {
          const parsed = parseLease(lease);
          if (parsed) remove.run(parsed.seq, this.name, parsed.token);
        }
      }),
    );
    return leases.map((lease) => ({ lease, ok: true }));
  }

  /**
   * Moves the message to the dead-letter queue in one transaction: a copy with the
   * `deadLetterAttributes` (as `SqsQueue` sends them) is written there and the original
   * deleted, or neither happens. A
   * message whose lease is no longer current (acked, or redelivered to someone else) is left
   * alone, as `ack` would.
   */
  async deadLetter(message: QueueMessage, reason: string, signal?: AbortSignal): Promise<void> {
    assertDeadLetter(message, reason);
    throwIfAborted(signal);
    const parsed = parseLease(message.lease);
    if (!parsed) return;
    const now = this.#context.clock.now();
    const moved = this.#context.run(`dead-letter on ${this.name}`, (db) =>
      db.transaction(() => {
        const row = db.statement(SQL.deleteReturning).get(parsed.seq, this.name, parsed.token) as
          | Omit<MessageRow, 'seq' | 'lease_token'>
          | undefined;
        if (!row) return false;
        const attributes = deadLetterAttributes(
          {
            reason,
            sourceQueue: this.name,
            originalId: row.id,
            receiveCount: row.receive_count,
            deadLetteredAt: new Date(now),
          },
          JSON.parse(row.attributes) as Record<string, string>,
        );
        db.statement(SQL.insert).run(
          this.deadLetterQueue,
          randomUUID(),
          row.body,
          JSON.stringify(attributes),
          now,
          now,
        );
        return true;
      }),
    );
    if (moved) ringQueue(wakeupKey(this.#context.db.path, this.deadLetterQueue));
  }

  async depth(signal?: AbortSignal): Promise<QueueDepth> {
    throwIfAborted(signal);
    const now = this.#context.clock.now();
    const row = this.#context.run(
      `depth of ${this.name}`,
      (db) =>
        db.statement(SQL.depth).get(this.name, now) as {
          visible: number;
          in_flight: number;
          delayed: number;
        },
    );
    return { visible: row.visible, inFlight: row.in_flight, delayed: row.delayed };
  }

  /** Takes up to `max` visible messages, waiting up to `waitMs` for the first (while `mayReceive` allows). */
  async #poll(
    max: number,
    visibilitySeconds: number,
    waitMs: number,
    signal?: AbortSignal,
    mayReceive?: () => boolean,
  ): Promise<QueueMessage[]> {
    const clock = this.#context.clock;
    const deadline = clock.monotonic() + waitMs;
    for (;;) {
      throwIfAborted(signal);
      if (mayReceive && !mayReceive()) return [];
      const taken = this.#take(max, visibilitySeconds);
      if (taken.length > 0) return taken;
      const remaining = deadline - clock.monotonic();
      if (remaining <= 0) return [];
      try {
        await waitForRing(this.#wakeupKey, Math.min(remaining, this.#pollIntervalMs), clock, [
          signal,
          this.#context.closed,
        ]);
      } catch (err) {
        this.#context.assertOpen(); // a close is reported as such, not as the caller's abort
        throw err;
      }
    }
  }

  #take(max: number, visibilitySeconds: number): QueueMessage[] {
    const now = this.#context.clock.now();
    const rows = this.#context.run(
      `receive from ${this.name}`,
      (db) =>
        db
          .statement(SQL.take)
          .all(now + visibilitySeconds * 1000, this.name, now, max) as unknown as MessageRow[],
    );
    return rows
      .sort((a, b) => a.seq - b.seq)
      .map((row) => ({
        id: row.id,
        body: row.body,
        lease: `${row.seq}.${row.lease_token}`,
        receiveCount: row.receive_count,
        sentAt: row.sent_at,
        attributes: JSON.parse(row.attributes) as Record<string, string>,
      }));
  }

  #setVisibility(
    entries: readonly { lease: string; seconds: number }[],
    operation: 'extend' | 'release',
  ): LeaseResult[] {
    if (entries.length === 0) return [];
    const now = this.#context.clock.now();
    return this.#context.run(`${operation} on ${this.name}`, (db) =>
      db.transaction(() => {
        const update = db.statement(SQL.setVisibleAt);
        return entries.map(({ lease, seconds }): LeaseResult => {
          const parsed = parseLease(lease);
          const changed = parsed
            ? update.run(now + seconds * 1000, parsed.seq, this.name, parsed.token)
            : undefined;
          return changed && Number(changed.changes) === 1
            ? { lease, ok: true }
            : { lease, ok: false, reason: 'stale' };
        });
      }),
    );
  }
}

/** Queue names follow SQS: 1–80 letters, digits, `-` and `_`. */
function assertQueueName(name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
    throw new ValidationError(`invalid queue name ${JSON.stringify(name)}`, [
      'a queue name is 1 to 80 letters, digits, - or _',
    ]);
  }
}

function parseLease(lease: string): { seq: number; token: string } | undefined {
  const match = LEASE.exec(lease);
  if (!match) return undefined;
  return { seq: Number(match[1]), token: match[2] ?? '' };
}
