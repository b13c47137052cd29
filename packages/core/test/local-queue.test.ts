// LocalQueue behaviour beyond the port conformance suite: time through the injected clock,
// lease bookkeeping, dead-letter details, in-process wake-ups, close, and reopening.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openLocalStore } from '../src/adapters/local/index.ts';
import { AbortedError, BackendError, ValidationError } from '../src/errors.ts';
import { DeadLetterAttributes, type Queue, type QueueMessage } from '../src/ports/queue.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { tempDataDir, tempStore } from './fixtures/local-temp-store.ts';

const name = () => `q-${randomUUID().slice(0, 8)}`;

async function setup() {
  const clock = new ManualClock();
  const store = await tempStore({ clock });
  return { clock, store, queue: store.queue(name()) };
}

async function takeOne(queue: Queue, visibilitySeconds = 30): Promise<QueueMessage> {
  const [msg] = await queue.receive({ maxMessages: 1, visibilitySeconds, waitSeconds: 0 });
  if (!msg) throw new Error('expected a message');
  return msg;
}

/** Lets pending I/O callbacks and promise chains run, without moving the manual clock. */
async function realTicks(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('LocalQueue', () => {
  it('hides a received message for exactly its visibility by the injected clock', async () => {
    const { clock, queue } = await setup();
    const [id] = await queue.send([{ body: 'a' }]);
    const first = await takeOne(queue, 30);

    await clock.advance(29_999);
    expect(await queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 0 })).toEqual([]);
    await clock.advance(1);
    const second = await takeOne(queue, 30);

    expect(second).toMatchObject({ id, receiveCount: 2, sentAt: first.sentAt });
    expect(second.lease).not.toBe(first.lease);
  });

  it('acking a superseded lease deletes nothing; the current lease does', async () => {
    const { clock, queue } = await setup();
    await queue.send([{ body: 'a' }]);
    const first = await takeOne(queue, 1);
    await clock.advance(1_000);
    const second = await takeOne(queue, 30);

    expect(await queue.ack([first.lease])).toEqual([{ lease: first.lease, ok: true }]);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
    await queue.ack([second.lease]);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('an expired lease that nobody superseded can still be extended (as on SQS)', async () => {
    const { clock, queue } = await setup();
    await queue.send([{ body: 'a' }]);
    const msg = await takeOne(queue, 1);
    await clock.advance(5_000);

    expect(await queue.extend([{ lease: msg.lease, visibilitySeconds: 60 }])).toEqual([
      { lease: msg.lease, ok: true },
    ]);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
  });

  it('treats a lease of another queue, or a made-up one, as unknown', async () => {
    const { store, queue } = await setup();
    const other = store.queue(name());
    await other.send([{ body: 'theirs' }]);
    const theirs = await takeOne(other);

    expect(await queue.extend([{ lease: theirs.lease, visibilitySeconds: 0 }])).toEqual([
      expect.objectContaining({ ok: false, reason: 'stale' }),
    ]);
    expect(await queue.ack([theirs.lease, 'garbage'])).toHaveLength(2);
    expect(await queue.release([{ lease: 'garbage', delaySeconds: 0 }])).toEqual([
      expect.objectContaining({ ok: false, reason: 'stale' }),
    ]);
    expect(await other.depth()).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
  });

  it('depth tells visible, in-flight (received, incl. released with a delay) and delayed apart', async () => {
    const { clock, queue } = await setup();
    await queue.send([
      { body: 'now' },
      { body: 'soon', delaySeconds: 10 },
      { body: 'taken' },
      { body: 'back' },
    ]);
    const [taken, back] = await queue.receive({ maxMessages: 2, visibilitySeconds: 30, waitSeconds: 0 });
    await queue.release([{ lease: back!.lease, delaySeconds: 5 }]);

    expect([taken!.body, back!.body]).toEqual(['now', 'taken']);
    expect(await queue.depth()).toEqual({ visible: 1, inFlight: 2, delayed: 1 });
    await clock.advance(10_000);
    expect(await queue.depth()).toEqual({ visible: 3, inFlight: 1, delayed: 0 });
  });

  it('delivers in send order', async () => {
    const { queue } = await setup();
    const ids = await queue.send(Array.from({ length: 15 }, (_, i) => ({ body: `m${i}` })));

    const first = await queue.receive({ maxMessages: 10, visibilitySeconds: 30, waitSeconds: 0 });
    const second = await queue.receive({ maxMessages: 10, visibilitySeconds: 30, waitSeconds: 0 });

    expect([...first, ...second].map((m) => m.id)).toEqual(ids);
  });

  it('deadLetter records reason, source, original id, receive count and time, and moves atomically', async () => {
    const { clock, store } = await setup();
    const queueName = name();
    const queue = store.queue(queueName);
    const dlq = store.queue(`${queueName}-dlq`);
    const [id] = await queue.send([{ body: 'poison', attributes: { tenant: 'acme' } }]);
    await clock.advance(1_000);
    await queue.release([{ lease: (await takeOne(queue)).lease, delaySeconds: 0 }]);
    const msg = await takeOne(queue);

    await queue.deadLetter(msg, 'bad input');

    expect(queue.deadLetterQueue).toBe(`${queueName}-dlq`);
    const dead = await takeOne(dlq);
    expect(dead.body).toBe('poison');
    expect(dead.attributes).toEqual({
      tenant: 'acme',
      [DeadLetterAttributes.reason]: 'bad input',
      [DeadLetterAttributes.sourceQueue]: queueName,
      [DeadLetterAttributes.originalId]: id,
      [DeadLetterAttributes.receiveCount]: '2',
      [DeadLetterAttributes.deadLetteredAt]: new Date(clock.now()).toISOString(),
    });
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('deadLetter with a superseded lease leaves the message where it is and copies nothing', async () => {
    const { clock, store } = await setup();
    const queue = store.queue(name(), { deadLetterQueue: name() });
    const dlq = store.queue(queue.deadLetterQueue);
    await queue.send([{ body: 'contended' }]);
    const stale = await takeOne(queue, 1);
    await clock.advance(1_000);
    const current = await takeOne(queue, 30);

    await queue.deadLetter(stale, 'too late');

    expect(await dlq.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
    expect(await queue.extend([{ lease: current.lease, visibilitySeconds: 30 }])).toEqual([
      { lease: current.lease, ok: true },
    ]);
  });

  it('a long poll waits by the injected clock and then answers empty', async () => {
    const { clock, queue } = await setup();
    let settled = false;
    const polling = queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 5 }).finally(() => {
      settled = true;
    });

    await clock.advance(4_900);
    expect(settled).toBe(false);
    await clock.advance(100);
    expect(await polling).toEqual([]);
  });

  it('a long poll picks up a delayed message once the clock reaches it', async () => {
    const { clock, queue } = await setup();
    await queue.send([{ body: 'later', delaySeconds: 2 }]);
    const polling = queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 10 });

    await clock.advance(2_100);

    expect((await polling).map((m) => m.body)).toEqual(['later']);
  });

  it('a send through another store on the same dir, in this process, wakes a long poll at once', async () => {
    const clock = new ManualClock();
    const dataDir = await tempDataDir();
    const receiverStore = await tempStore({ clock, dataDir });
    const senderStore = await tempStore({ clock, dataDir: `${dataDir}/.` });
    const queueName = name();
    const polling = receiverStore
      .queue(queueName)
      .receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 20 });

    await senderStore.queue(queueName).send([{ body: 'ring' }]);

    // The manual clock never moves: only the in-process wake-up can end this poll.
    expect((await polling).map((m) => m.body)).toEqual(['ring']);
  });

  it('a release or extend to 0 wakes a waiting long poll at once', async () => {
    const { queue } = await setup();
    await queue.send([{ body: 'a' }, { body: 'b' }]);
    const [a, b] = await queue.receive({ maxMessages: 2, visibilitySeconds: 30, waitSeconds: 0 });

    const first = queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 20 });
    await queue.release([{ lease: a!.lease, delaySeconds: 0 }]);
    const second = queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 20 });
    await queue.extend([{ lease: b!.lease, visibilitySeconds: 0 }]);

    // The manual clock never moves, so only the wake-ups can end these polls.
    expect((await first).map((m) => m.body)).toEqual(['a']);
    expect((await second).map((m) => m.body)).toEqual(['b']);
  });

  it('consume asks capacity before each poll and never takes more than it allows', async () => {
    const { queue } = await setup();
    await queue.send(Array.from({ length: 7 }, (_, i) => ({ body: `c${i}` })));
    const batches: string[][] = [];
    const stop = new AbortController();
    const allowances = [3, 1, 10];
    let asked = 0;

    const consuming = queue.consume({
      visibilitySeconds: 30,
      waitSeconds: 0,
      capacity: async () => allowances[asked++] ?? 10,
      deliver: (messages) => batches.push(messages.map((m) => m.body)),
      onError: (error) => {
        throw error;
      },
      signal: stop.signal,
    });
    await realTicks();
    stop.abort();
    await consuming;

    expect(batches).toEqual([['c0', 'c1', 'c2'], ['c3'], ['c4', 'c5', 'c6']]);
  });

  it('an idle consume with waitSeconds 0 waits a poll interval instead of spinning', async () => {
    const { queue } = await setup();
    const stop = new AbortController();
    let asked = 0;
    const consuming = queue.consume({
      visibilitySeconds: 30,
      waitSeconds: 0,
      capacity: async () => {
        asked++;
        return 10;
      },
      deliver: () => {},
      onError: () => {},
      signal: stop.signal,
    });

    await realTicks(50);
    stop.abort();
    await consuming;

    // The manual clock never moved, so the first empty poll is still waiting for its interval.
    expect(asked).toBe(1);
  });

  it('consume reports a failing capacity to onError and polls again after a back-off', async () => {
    const { clock, queue } = await setup();
    await queue.send([{ body: 'eventually' }]);
    const errors: Error[] = [];
    const delivered: string[] = [];
    const stop = new AbortController();
    let calls = 0;
    const consuming = queue.consume({
      visibilitySeconds: 30,
      waitSeconds: 0,
      capacity: async () => {
        if (++calls === 1) throw new Error('metrics backend down');
        return 1;
      },
      deliver: (messages) => delivered.push(...messages.map((m) => m.body)),
      onError: (error) => errors.push(error),
      signal: stop.signal,
    });

    await realTicks();
    expect(errors.map((e) => e.message)).toEqual(['metrics backend down']);
    expect(delivered).toEqual([]);
    await clock.advance(10_000);
    stop.abort();
    await consuming;

    expect(delivered).toEqual(['eventually']);
  });

  it('an abort ends a long poll with AbortedError without moving the clock', async () => {
    const { queue } = await setup();
    const stop = new AbortController();
    const polling = queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 20 }, stop.signal);

    stop.abort();

    await expect(polling).rejects.toBeInstanceOf(AbortedError);
  });

  it('close ends long polls with BackendError and consumers quietly; later calls fail', async () => {
    const { store, queue } = await setup();
    const polling = queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 20 });
    const errors: Error[] = [];
    const consuming = queue.consume({
      visibilitySeconds: 30,
      waitSeconds: 20,
      capacity: async () => 1,
      deliver: () => {},
      onError: (error) => errors.push(error),
      signal: new AbortController().signal,
    });
    await realTicks();

    await store.close();

    await expect(polling).rejects.toBeInstanceOf(BackendError);
    await expect(consuming).resolves.toBeUndefined();
    expect(errors).toEqual([]);
    await expect(queue.send([{ body: 'x' }])).rejects.toBeInstanceOf(BackendError);
    expect(() => store.queue('other')).toThrow(BackendError);
    await store.close(); // idempotent
  });

  it('keeps messages, leases and receive counts across a reopen of the data dir', async () => {
    const clock = new ManualClock();
    const dataDir = await tempDataDir();
    const queueName = name();
    const before = await openLocalStore({ dataDir, clock });
    await before.queue(queueName).send([{ body: 'durable' }, { body: 'leased' }]);
    const [durable, leased] = await before
      .queue(queueName)
      .receive({ maxMessages: 2, visibilitySeconds: 60, waitSeconds: 0 });
    await before.queue(queueName).release([{ lease: durable!.lease, delaySeconds: 0 }]);
    await before.close();

    const after = await tempStore({ clock, dataDir });
    const queue = after.queue(queueName);

    expect(await queue.depth()).toEqual({ visible: 1, inFlight: 1, delayed: 0 });
    expect(await queue.extend([{ lease: leased!.lease, visibilitySeconds: 60 }])).toEqual([
      { lease: leased!.lease, ok: true },
    ]);
    expect(await takeOne(queue)).toMatchObject({ body: 'durable', receiveCount: 2 });
  });

  // The rules themselves are tested once, in ports-queue-validation.test.ts: here, that every
  // call applies them before it touches the database, and LocalQueue's own options.
  it('rejects what SQS would reject, before touching the queue', async () => {
    const { store, queue } = await setup();
    const base = { signal: new AbortController().signal, onError: () => {}, deliver: () => {} };
    const invalid: (() => unknown)[] = [
      () => queue.send([{ body: 'ok' }, { body: 'x', attributes: { 'AWS.trace': 'v' } }]),
      () => queue.receive({ maxMessages: 1.5, visibilitySeconds: 30, waitSeconds: 0 }),
      () => queue.consume({ ...base, capacity: async () => 1, visibilitySeconds: 30, waitSeconds: 21 }),
      () => queue.extend([{ lease: 'l', visibilitySeconds: -1 }]),
      () => queue.release([{ lease: '', delaySeconds: 0 }]),
      () => queue.ack([1 as unknown as string]),
      () => queue.deadLetter({} as QueueMessage, 'why'),
    ];
    for (const call of invalid) {
      await expect(Promise.resolve().then(call), call.toString()).rejects.toBeInstanceOf(ValidationError);
    }
    for (const bad of ['', 'has space', 'a'.repeat(81), 'dots.not.allowed']) {
      expect(() => store.queue(bad), bad).toThrow(ValidationError);
    }
    expect(() => store.queue('same', { deadLetterQueue: 'same' })).toThrow(ValidationError);
    expect(() => store.queue('a'.repeat(78))).toThrow(ValidationError); // its default DLQ name is too long
    expect(() => store.queue('q', { pollIntervalMs: 0 })).toThrow(ValidationError);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });
});
