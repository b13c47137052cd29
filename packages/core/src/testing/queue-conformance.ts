import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { AbortedError, ValidationError } from '../errors.ts';
import { DeadLetterAttributes, type Queue, QueueLimits, type QueueMessage } from '../ports/queue.ts';
import { Gate, settlesWithin, conformanceTestTimeoutMs as timeout } from './conformance-support.ts';

/** What a `queueConformance` factory hands each test: fresh, empty queues of its own. */
export interface QueueConformanceSubject {
  readonly queue: Queue;
  /** The dead-letter queue `queue.deadLetter` moves messages to. */
  readonly deadLetterQueue: Queue;
  /** Deletes both queues and closes what `create` opened. */
  dispose(): Promise<void>;
}

// Real backends run real visibility timeouts, so the suite uses short ones (1–2 s) and waits
// with deadlines far above them: generous enough for a loaded 2-core box, short enough that
// "came back at once" is still told apart from "came back when a 30 s lease ran out".
const deadlineMs = 15_000;

/**
 * The `Queue` port's written semantics as one vitest suite; call it once per adapter with a
 * factory that creates a fresh queue pair per test (unique names, so files run in parallel).
 *
 * @example
 * ```ts
 * queueConformance('LocalQueue', async () => {
 *   const store = await openLocalStore({ dataDir: await mkdtemp(join(tmpdir(), 'q-')) });
 *   const name = `q-${randomUUID()}`;
 *   return {
 *     queue: store.queue(name, { deadLetterQueue: `${name}-dlq` }),
 *     deadLetterQueue: store.queue(`${name}-dlq`),
 *     dispose: () => store.close(),
 *   };
 * });
 * ```
 */
export function queueConformance(label: string, create: () => Promise<QueueConformanceSubject>): void {
  async function setup(): Promise<QueueConformanceSubject> {
    const subject = await create();
    onTestFinished(() => subject.dispose());
    return subject;
  }

  describe(`Queue conformance: ${label}`, () => {
    it(
      'sends and receives a body with attributes; the first delivery has receiveCount 1',
      async () => {
        const { queue } = await setup();
        const before = Date.now();
        const attributes = { tenant: 'acme', 'trace.id': 'a1-b2', note: 'héllo ✓' };
        // Non-ASCII but inside the BMP: fauxqs wrongly refuses characters above U+FFFF, which SQS accepts.
        const [id] = await queue.send([{ body: '{"job":"héllo ✓"}', attributes }]);

        const msg = await receiveOne(queue, 30);

        expect(msg).toMatchObject({ id, body: '{"job":"héllo ✓"}', receiveCount: 1 });
        expect(msg.attributes).toMatchObject(attributes);
        expect(msg.lease).toEqual(expect.any(String));
        expect(msg.lease).not.toBe('');
        // Generous bounds: adapters may stamp with second precision or a slightly skewed emulator clock.
        expect(msg.sentAt).toBeGreaterThan(before - 60_000);
        expect(msg.sentAt).toBeLessThan(Date.now() + 60_000);
      },
      timeout,
    );

    it(
      'send answers one id per message, in order, for more than 10 messages at once',
      async () => {
        const { queue } = await setup();
        const bodies = Array.from({ length: 23 }, (_, i) => `message ${i}`);

        const ids = await queue.send(bodies.map((body) => ({ body })));

        expect(ids).toHaveLength(bodies.length);
        expect(new Set(ids).size).toBe(bodies.length);
        const received = await drain(queue, bodies.length, QueueLimits.maxBatch);
        expect(ids.map((id) => received.get(id)?.body)).toEqual(bodies);
      },
      timeout,
    );

    it(
      'receive returns at most maxMessages per call',
      async () => {
        const { queue } = await setup();
        await queue.send(Array.from({ length: 5 }, (_, i) => ({ body: `m${i}` })));

        const received = await drain(queue, 5, 2);

        expect([...received.values()].map((m) => m.body).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
      },
      timeout,
    );

    it(
      'an empty queue answers an empty array',
      async () => {
        const { queue } = await setup();

        expect(await queue.receive({ maxMessages: 10, visibilitySeconds: 30, waitSeconds: 0 })).toEqual([]);
        expect(await queue.receive({ maxMessages: 10, visibilitySeconds: 30, waitSeconds: 1 })).toEqual([]);
        expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
      },
      timeout,
    );

    it(
      'a long poll returns as soon as a message arrives',
      async () => {
        const { queue } = await setup();
        const polling = queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 20 });
        polling.catch(() => {}); // asserted below; this only keeps an early failure from going unhandled

        await sleep(300);
        await queue.send([{ body: 'late' }]);

        // Well before the 20 s wait would end on its own.
        const msgs = await settlesWithin(polling, 10_000, 'long poll');
        expect(msgs.map((m) => m.body)).toEqual(['late']);
      },
      timeout,
    );

    it(
      'a received message stays hidden while its lease runs, and depth counts it in flight',
      async () => {
        const { queue } = await setup();
        await queue.send([{ body: 'one' }, { body: 'two' }]);
        const first = await receiveOne(queue, 30);

        await expect
          .poll(() => queue.depth(), { timeout: deadlineMs })
          .toEqual({
            visible: 1,
            inFlight: 1,
            delayed: 0,
          });
        const second = await receiveOne(queue, 30);
        expect(second.id).not.toBe(first.id);
        expect(await queue.receive({ maxMessages: 10, visibilitySeconds: 30, waitSeconds: 1 })).toEqual([]);
      },
      timeout,
    );

    it(
      'a message sent with delaySeconds is held back, then delivered',
      async () => {
        const { queue } = await setup();
        const [id] = await queue.send([{ body: 'later', delaySeconds: 2 }]);

        expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 1 });
        expect(await queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 0 })).toEqual([]);
        const msg = await receiveOne(queue, 30);
        expect(msg).toMatchObject({ id, body: 'later', receiveCount: 1 });
      },
      timeout,
    );

    it(
      'redelivers a message after its visibility expires, with a new lease and receiveCount + 1',
      async () => {
        const { queue } = await setup();
        const [id] = await queue.send([{ body: 'again', attributes: { kind: 'retry' } }]);
        const first = await receiveOne(queue, 1);

        const second = await receiveOne(queue, 30);

        expect(first.receiveCount).toBe(1);
        expect(second).toMatchObject({ id, body: 'again', receiveCount: 2 });
        expect(second.attributes).toMatchObject({ kind: 'retry' });
        expect(second.lease).not.toBe(first.lease);
      },
      timeout,
    );

    it(
      'extend keeps a message hidden past its original timeout, and the lease stays valid',
      async () => {
        const { queue } = await setup();
        await queue.send([{ body: 'long job' }]);
        const msg = await receiveOne(queue, 2);

        expect(await queue.extend([{ lease: msg.lease, visibilitySeconds: 30 }])).toEqual([
          { lease: msg.lease, ok: true },
        ]);

        // Twice the original 2 s timeout: without the extension it would be back by now.
        await expectNoDelivery(queue, 4_000);
        expect(await queue.release([{ lease: msg.lease, delaySeconds: 0 }])).toEqual([
          { lease: msg.lease, ok: true },
        ]);
        const again = await receiveOne(queue, 30);
        expect(again).toMatchObject({ id: msg.id, receiveCount: 2 });
      },
      timeout,
    );

    it(
      'release(0) makes a message visible again at once',
      async () => {
        const { queue } = await setup();
        await queue.send([{ body: 'give back' }]);
        const msg = await receiveOne(queue, 30);

        expect(await queue.release([{ lease: msg.lease, delaySeconds: 0 }])).toEqual([
          { lease: msg.lease, ok: true },
        ]);

        // The 30 s lease would keep it hidden past the deadline; only the release brings it back.
        const again = await receiveOne(queue, 30);
        expect(again).toMatchObject({ id: msg.id, body: 'give back', receiveCount: 2 });
        expect(again.lease).not.toBe(msg.lease);
      },
      timeout,
    );

    it(
      'release with a delay hides the message until the delay has passed',
      async () => {
        const { queue } = await setup();
        await queue.send([{ body: 'back off' }]);
        const msg = await receiveOne(queue, 30);

        expect(await queue.release([{ lease: msg.lease, delaySeconds: 2 }])).toEqual([
          { lease: msg.lease, ok: true },
        ]);

        expect(await queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 0 })).toEqual([]);
        const again = await receiveOne(queue, 30);
        expect(again).toMatchObject({ id: msg.id, receiveCount: 2 });
      },
      timeout,
    );

    it(
      'a superseded lease is stale: extend and release report it and change nothing',
      async () => {
        const { queue } = await setup();
        await queue.send([{ body: 'contended' }]);
        const first = await receiveOne(queue, 1);
        const second = await receiveOne(queue, 30); // first's lease ran out; this delivery supersedes it

        expect(await queue.extend([{ lease: first.lease, visibilitySeconds: 0 }])).toEqual([
          expect.objectContaining({ lease: first.lease, ok: false, reason: 'stale' }),
        ]);
        expect(await queue.release([{ lease: first.lease, delaySeconds: 0 }])).toEqual([
          expect.objectContaining({ lease: first.lease, ok: false, reason: 'stale' }),
        ]);

        // Had either call touched the message, it would be visible now; the second lease still holds it.
        expect(await queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 1 })).toEqual([]);
        // One result per entry, in order, with the current lease unaffected by the stale one beside it.
        expect(
          await queue.extend([
            { lease: second.lease, visibilitySeconds: 30 },
            { lease: first.lease, visibilitySeconds: 30 },
          ]),
        ).toEqual([
          { lease: second.lease, ok: true },
          expect.objectContaining({ lease: first.lease, ok: false, reason: 'stale' }),
        ]);
      },
      timeout,
    );

    it(
      'ack deletes messages for good; acking again is not an error',
      async () => {
        const { queue } = await setup();
        await queue.send([{ body: 'done 1' }, { body: 'done 2' }]);
        const received = [...(await drain(queue, 2, 10, 1)).values()];
        const leases = received.map((m) => m.lease);

        expect(await queue.ack(leases)).toEqual(leases.map((lease) => ({ lease, ok: true })));

        await expect
          .poll(() => queue.depth(), { timeout: deadlineMs })
          .toEqual({
            visible: 0,
            inFlight: 0,
            delayed: 0,
          });
        // Past the 1 s visibility: an acked message must not come back.
        await expectNoDelivery(queue, 2_500);
        // The port promises no error here (SQS accepts it), not any particular `ok`.
        const again = await queue.ack(leases);
        expect(again.map((r) => r.lease)).toEqual(leases);
      },
      timeout,
    );

    it(
      'batch calls answer one result per entry, in order, beyond 10 entries',
      async () => {
        const { queue } = await setup();
        await queue.send(Array.from({ length: 12 }, (_, i) => ({ body: `b${i}` })));
        const leases = [...(await drain(queue, 12, 10)).values()].map((m) => m.lease).reverse();

        expect(await queue.extend(leases.map((lease) => ({ lease, visibilitySeconds: 30 })))).toEqual(
          leases.map((lease) => ({ lease, ok: true })),
        );
        expect(await queue.ack(leases)).toEqual(leases.map((lease) => ({ lease, ok: true })));
        await expect
          .poll(() => queue.depth(), { timeout: deadlineMs })
          .toEqual({
            visible: 0,
            inFlight: 0,
            delayed: 0,
          });
      },
      timeout,
    );

    it(
      'deadLetter moves a message with its reason to the dead-letter queue and deletes the original',
      async () => {
        const { queue, deadLetterQueue } = await setup();
        const [id] = await queue.send([{ body: '{"n":1}', attributes: { tenant: 'acme' } }]);
        const msg = await receiveOne(queue, 1);
        const reason = 'schema: n must be a string';

        await queue.deadLetter(msg, reason);

        const dead = await receiveOne(deadLetterQueue, 30);
        expect(dead.body).toBe('{"n":1}');
        expect(dead.attributes).toMatchObject({
          tenant: 'acme',
          [DeadLetterAttributes.reason]: reason,
          [DeadLetterAttributes.originalId]: id,
        });
        await expect
          .poll(() => queue.depth(), { timeout: deadlineMs })
          .toEqual({
            visible: 0,
            inFlight: 0,
            delayed: 0,
          });
        // Deleted, not just hidden: its 1 s lease has run out and it does not come back.
        await expectNoDelivery(queue, 2_500);
      },
      timeout,
    );

    it(
      'consume takes no more than capacity allows, and stops when its signal aborts',
      async () => {
        const { queue } = await setup();
        await queue.send(Array.from({ length: 5 }, (_, i) => ({ body: `c${i}` })));
        const batches: QueueMessage[][] = [];
        const errors: Error[] = [];
        const granted: number[] = [];
        const slots = new Gate();
        const stop = new AbortController();

        const consuming = queue.consume({
          visibilitySeconds: 30,
          waitSeconds: 20,
          capacity: async (signal) => {
            // First poll: 2 slots. Then no free slot until the test opens the gate.
            if (granted.length > 0) await slots.wait(signal);
            granted.push(granted.length === 0 ? 2 : 10);
            return granted.at(-1)!;
          },
          deliver: (messages) => batches.push(messages),
          onError: (error) => errors.push(error),
          signal: stop.signal,
        });
        consuming.catch(() => {}); // asserted below

        await vi.waitFor(() => expect(batches.flat().length).toBeGreaterThan(0), { timeout: deadlineMs });
        // Give a poller that ignores capacity the chance to take more; it must not.
        await sleep(1_000);
        expect(batches.flat().length).toBeLessThanOrEqual(2);
        expect(batches[0]!.length).toBeLessThanOrEqual(2);

        slots.open();
        await vi.waitFor(() => expect(new Set(batches.flat().map((m) => m.id)).size).toBe(5), {
          timeout: deadlineMs,
        });
        for (const batch of batches.slice(1)) expect(batch.length).toBeLessThanOrEqual(10);

        // The queue is empty now, so consume sits in a 20 s long poll; aborting cuts it short.
        stop.abort();
        await expect(settlesWithin(consuming, 10_000, 'consume after abort')).resolves.toBeUndefined();
        const deliveredBeforeStop = batches.flat().length;
        await queue.send([{ body: 'after stop' }]);
        await sleep(1_500);
        expect(batches.flat().length).toBe(deliveredBeforeStop);
        expect(errors).toEqual([]);
      },
      timeout,
    );

    it(
      'consume with an already-aborted signal returns without taking messages',
      async () => {
        const { queue } = await setup();
        await queue.send([{ body: 'untouched' }]);
        const delivered: QueueMessage[] = [];

        const consuming = queue.consume({
          visibilitySeconds: 30,
          waitSeconds: 20,
          capacity: async () => 10,
          deliver: (messages) => delivered.push(...messages),
          onError: () => {},
          signal: AbortSignal.abort(),
        });

        // "Resolves once polling has stopped"; an AbortedError is an acceptable way to say so too.
        await settlesWithin(
          consuming.catch((error: unknown) => expect(error).toBeInstanceOf(AbortedError)),
          10_000,
          'consume with an aborted signal',
        );
        expect(delivered).toEqual([]);
        expect((await receiveOne(queue, 30)).body).toBe('untouched');
      },
      timeout,
    );

    it(
      'an aborted long receive rejects promptly with AbortedError',
      async () => {
        const { queue } = await setup();
        const stop = new AbortController();
        const polling = queue.receive(
          { maxMessages: 1, visibilitySeconds: 30, waitSeconds: 20 },
          stop.signal,
        );
        polling.catch(() => {}); // asserted below

        await sleep(200);
        stop.abort();

        // Well before the 20 s wait would end on its own.
        await expect(settlesWithin(polling, 10_000, 'aborted receive')).rejects.toBeInstanceOf(AbortedError);
      },
      timeout,
    );

    it(
      'every call rejects with AbortedError when its signal is already aborted, and changes nothing',
      async () => {
        const { queue, deadLetterQueue } = await setup();
        await queue.send([{ body: 'keep' }]);
        const msg = await receiveOne(queue, 30);
        const aborted = AbortSignal.abort();

        await expect(queue.send([{ body: 'not sent' }], aborted)).rejects.toBeInstanceOf(AbortedError);
        await expect(
          queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 0 }, aborted),
        ).rejects.toBeInstanceOf(AbortedError);
        await expect(
          queue.extend([{ lease: msg.lease, visibilitySeconds: 0 }], aborted),
        ).rejects.toBeInstanceOf(AbortedError);
        await expect(queue.release([{ lease: msg.lease, delaySeconds: 0 }], aborted)).rejects.toBeInstanceOf(
          AbortedError,
        );
        await expect(queue.ack([msg.lease], aborted)).rejects.toBeInstanceOf(AbortedError);
        await expect(queue.deadLetter(msg, 'not moved', aborted)).rejects.toBeInstanceOf(AbortedError);
        await expect(queue.depth(aborted)).rejects.toBeInstanceOf(AbortedError);

        // Still in flight under its lease (not released, acked or moved), and nothing new was sent.
        expect(await queue.depth()).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
        expect(await deadLetterQueue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
        expect(await queue.ack([msg.lease])).toEqual([{ lease: msg.lease, ok: true }]);
      },
      timeout,
    );

    it(
      'rejects out-of-range arguments with ValidationError',
      async () => {
        const { queue } = await setup();
        const receive = (maxMessages: number, visibilitySeconds: number, waitSeconds: number) =>
          queue.receive({ maxMessages, visibilitySeconds, waitSeconds });
        const tooManyAttributes = Object.fromEntries(
          Array.from({ length: QueueLimits.maxAttributes + 1 }, (_, i) => [`a${i}`, 'v']),
        );

        for (const call of [
          () => receive(0, 30, 0),
          () => receive(QueueLimits.maxBatch + 1, 30, 0),
          () => receive(1, -1, 0),
          () => receive(1, QueueLimits.maxVisibilitySeconds + 1, 0),
          () => receive(1, 30, -1),
          () => receive(1, 30, QueueLimits.maxWaitSeconds + 1),
          () => queue.send([{ body: 'x', delaySeconds: QueueLimits.maxDelaySeconds + 1 }]),
          () => queue.send([{ body: 'x', delaySeconds: -1 }]),
          () => queue.send([{ body: 'x', attributes: tooManyAttributes }]),
          () => queue.send([{ body: 'x'.repeat(QueueLimits.maxBodyBytes + 1) }]),
          () => queue.extend([{ lease: 'lease', visibilitySeconds: QueueLimits.maxVisibilitySeconds + 1 }]),
          () => queue.extend([{ lease: 'lease', visibilitySeconds: -1 }]),
          () => queue.release([{ lease: 'lease', delaySeconds: -1 }]),
          () => queue.release([{ lease: 'lease', delaySeconds: QueueLimits.maxVisibilitySeconds + 1 }]),
        ]) {
          await expect(call(), call.toString()).rejects.toBeInstanceOf(ValidationError);
        }
        expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
      },
      timeout,
    );
  });
}

/** Polls until one message arrives and returns it, leased for `visibilitySeconds`. */
function receiveOne(queue: Queue, visibilitySeconds: number): Promise<QueueMessage> {
  return vi.waitFor(
    async () => {
      const [msg] = await queue.receive({ maxMessages: 1, visibilitySeconds, waitSeconds: 1 });
      if (!msg) throw new Error(`no message on ${queue.name} yet`);
      return msg;
    },
    { timeout: deadlineMs, interval: 20 },
  );
}

/** Receives until `count` distinct messages have arrived, checking every batch's size; keyed by id. */
async function drain(
  queue: Queue,
  count: number,
  maxMessages: number,
  visibilitySeconds = 30,
): Promise<Map<string, QueueMessage>> {
  const received = new Map<string, QueueMessage>();
  const batchSizes: number[] = [];
  await vi.waitFor(
    async () => {
      const batch = await queue.receive({ maxMessages, visibilitySeconds, waitSeconds: 1 });
      batchSizes.push(batch.length);
      for (const msg of batch) received.set(msg.id, msg);
      if (received.size < count) throw new Error(`${received.size} of ${count} messages so far`);
    },
    { timeout: deadlineMs, interval: 20 },
  );
  expect(Math.max(...batchSizes)).toBeLessThanOrEqual(maxMessages);
  expect(received.size).toBe(count);
  return received;
}

/** Asserts that nothing is delivered for `ms` (a negative can only be checked by waiting). */
async function expectNoDelivery(queue: Queue, ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const got = await queue.receive({ maxMessages: 10, visibilitySeconds: 30, waitSeconds: 1 });
    expect(got.map((m) => m.body)).toEqual([]);
  }
}
