import { randomUUID } from 'node:crypto';
import { DeleteQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ensureSqsQueue, SqsQueue } from '../src/adapters/aws/index.ts';
import { AbortedError, NotFoundError, ValidationError } from '../src/errors.ts';
import { DeadLetterAttributes, type QueueMessage } from '../src/ports/queue.ts';
import { awsTestClientConfig } from '../src/testing/emulators.ts';

const client = new SQSClient({ ...awsTestClientConfig, endpoint: inject('emulators').sqs });
const created: string[] = [];

async function freshQueue(options: { visibilitySeconds?: number } = {}) {
  const name = `sqs-queue-${randomUUID().slice(0, 8)}`;
  const urls = await ensureSqsQueue(client, name, options);
  created.push(urls.queueUrl, urls.deadLetterQueueUrl);
  return { name, ...urls, queue: new SqsQueue({ client, ...urls }) };
}

async function receiveAll(queue: SqsQueue, count: number, visibilitySeconds = 30): Promise<QueueMessage[]> {
  const got: QueueMessage[] = [];
  while (got.length < count) {
    const batch = await queue.receive({ maxMessages: 10, visibilitySeconds, waitSeconds: 5 });
    if (batch.length === 0) break;
    got.push(...batch);
  }
  return got;
}

afterAll(async () => {
  await Promise.all(created.map((QueueUrl) => client.send(new DeleteQueueCommand({ QueueUrl }))));
  client.destroy();
});

describe('SqsQueue on fauxqs', () => {
  it('sends more than one batch and receives bodies, attributes, receive counts and send times', async () => {
    const { queue } = await freshQueue();
    const before = Date.now();
    const ids = await queue.send(
      Array.from({ length: 23 }, (_, i) => ({
        body: `job ${i}`,
        attributes: { index: String(i), kind: 'test' },
      })),
    );

    const got = await receiveAll(queue, 23);

    expect(ids).toHaveLength(23);
    expect(new Set(ids).size).toBe(23);
    expect(got.map((m) => m.body).sort()).toEqual(Array.from({ length: 23 }, (_, i) => `job ${i}`).sort());
    for (const message of got) {
      expect(ids).toContain(message.id);
      expect(message.receiveCount).toBe(1);
      expect(message.sentAt).toBeGreaterThanOrEqual(before - 1000);
      expect(message.attributes).toEqual({ index: message.body.slice(4), kind: 'test' });
    }
  });

  it('reports a lease superseded by a redelivery as stale, and the current lease as ok', async () => {
    const { queue } = await freshQueue();
    await queue.send([{ body: 'redelivered' }]);
    const [first] = await queue.receive({ maxMessages: 1, visibilitySeconds: 1, waitSeconds: 5 });
    // Wait for the 1 s lease to run out: the long poll returns the redelivery.
    let second: QueueMessage | undefined;
    while (!second) [second] = await queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 5 });

    const extended = await queue.extend([
      { lease: first!.lease, visibilitySeconds: 30 },
      { lease: second.lease, visibilitySeconds: 30 },
    ]);
    const released = await queue.release([{ lease: first!.lease, delaySeconds: 0 }]);

    expect(second.id).toBe(first!.id);
    expect(second.receiveCount).toBe(2);
    expect(extended[0]).toMatchObject({ lease: first!.lease, ok: false, reason: 'stale' });
    expect(extended[1]).toEqual({ lease: second.lease, ok: true });
    expect(released[0]).toMatchObject({ ok: false, reason: 'stale' });
    // The stale release changed nothing: the message is still leased to the second delivery.
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
  });

  it('extends, releases and acks more than ten leases with one result per lease, in order', async () => {
    const { queue } = await freshQueue();
    await queue.send(Array.from({ length: 15 }, (_, i) => ({ body: `m${i}` })));
    const got = await receiveAll(queue, 15);
    const leases = got.map((m) => m.lease);

    const extended = await queue.extend(leases.map((lease) => ({ lease, visibilitySeconds: 60 })));
    const released = await queue.release(leases.slice(0, 5).map((lease) => ({ lease, delaySeconds: 0 })));
    const again = await receiveAll(queue, 5);
    const acked = await queue.ack([...leases.slice(5), ...again.map((m) => m.lease)]);

    expect(got).toHaveLength(15);
    expect(extended).toEqual(leases.map((lease) => ({ lease, ok: true })));
    expect(released).toEqual(leases.slice(0, 5).map((lease) => ({ lease, ok: true })));
    expect(again.map((m) => m.receiveCount)).toEqual([2, 2, 2, 2, 2]);
    expect(acked.every((r) => r.ok)).toBe(true);
    expect(acked).toHaveLength(15);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('counts delayed messages and releases with a delay', async () => {
    const { queue } = await freshQueue();
    await queue.send([{ body: 'later', delaySeconds: 60 }, { body: 'now' }]);
    const [now] = await queue.receive({ maxMessages: 10, visibilitySeconds: 30, waitSeconds: 2 });
    await queue.release([{ lease: now!.lease, delaySeconds: 60 }]);

    expect(now!.body).toBe('now');
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 1, delayed: 1 });
    expect(await queue.receive({ maxMessages: 10, visibilitySeconds: 30, waitSeconds: 0 })).toEqual([]);
  });

  it('dead-letters with the reason and origin, keeping the body and attributes, and deletes the original', async () => {
    const { queue, name, deadLetterQueueUrl } = await freshQueue();
    await queue.send([{ body: '{"n":1}', attributes: { tenant: 'a' } }]);
    const [message] = await queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 2 });
    const longReason = `bad input\u0000${'x'.repeat(10_000)}`;

    await queue.deadLetter(message!, longReason);

    const dlq = new SqsQueue({ client, queueUrl: deadLetterQueueUrl });
    const [dead] = await dlq.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 2 });
    expect(dead!.body).toBe('{"n":1}');
    expect(dead!.attributes.tenant).toBe('a');
    expect(dead!.attributes[DeadLetterAttributes.reason]).toMatch(/^bad input\ufffdx+…$/);
    expect(dead!.attributes[DeadLetterAttributes.reason]!.length).toBeLessThanOrEqual(4096);
    expect(dead!.attributes[DeadLetterAttributes.sourceQueue]).toBe(name);
    expect(dead!.attributes[DeadLetterAttributes.originalId]).toBe(message!.id);
    expect(dead!.attributes[DeadLetterAttributes.receiveCount]).toBe('1');
    expect(Date.parse(dead!.attributes[DeadLetterAttributes.deadLetteredAt]!)).not.toBeNaN();
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  // The rules themselves are tested once, in ports-queue-validation.test.ts: here, that every
  // call applies them before it sends anything.
  it('rejects what SQS would reject before sending anything', async () => {
    const { queue } = await freshQueue();

    await expect(queue.send([{ body: 'ok' }, { body: '' }])).rejects.toBeInstanceOf(ValidationError);
    await expect(queue.send([{ body: 'ok', attributes: { 'AWS.x': 'y' } }])).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(
      queue.receive({ maxMessages: 11, visibilitySeconds: 1, waitSeconds: 0 }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(queue.extend([{ lease: 'l', visibilitySeconds: 43_201 }])).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(queue.release([{ lease: 'l', delaySeconds: -1 }])).rejects.toBeInstanceOf(ValidationError);
    await expect(queue.ack([''])).rejects.toBeInstanceOf(ValidationError);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('sends a batch that would exceed 1 MiB in total as several calls', async () => {
    const { queue } = await freshQueue();
    const big = 'b'.repeat(400_000);

    const ids = await queue.send([{ body: big }, { body: big }, { body: big }]);

    expect(ids).toHaveLength(3);
    expect((await receiveAll(queue, 3)).map((m) => m.body.length)).toEqual([400_000, 400_000, 400_000]);
  });

  it('translates a missing queue into NotFoundError and an aborted long poll into AbortedError', async () => {
    const { queueUrl } = await freshQueue();
    const missing = new SqsQueue({ client, queueUrl: `${queueUrl}-missing` });
    const queue = new SqsQueue({ client, queueUrl });
    const controller = new AbortController();

    const poll = queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 20 }, controller.signal);
    setTimeout(() => controller.abort(), 100);

    await expect(missing.depth()).rejects.toBeInstanceOf(NotFoundError);
    await expect(poll).rejects.toBeInstanceOf(AbortedError);
    await expect(queue.depth(AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
  });
});

describe('ensureSqsQueue on fauxqs', () => {
  it('is idempotent, brings changed attributes in line, and lets SQS redrive to the DLQ', async () => {
    const name = `ensure-${randomUUID().slice(0, 8)}`;
    const first = await ensureSqsQueue(client, name, { visibilitySeconds: 30 });
    const second = await ensureSqsQueue(client, name, { visibilitySeconds: 1, maxReceiveCount: 1 });
    created.push(second.queueUrl, second.deadLetterQueueUrl);
    const queue = new SqsQueue({ client, ...second });
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: second.queueUrl, AttributeNames: ['All'] }),
    );

    await queue.send([{ body: 'poison' }]);
    const [delivery] = await queue.receive({ maxMessages: 1, visibilitySeconds: 1, waitSeconds: 2 });
    // The second receive exceeds maxReceiveCount 1: SQS moves the message instead of delivering it.
    const redelivered = await queue.receive({ maxMessages: 1, visibilitySeconds: 1, waitSeconds: 3 });
    const dlq = new SqsQueue({ client, queueUrl: second.deadLetterQueueUrl });

    expect(second).toEqual(first);
    expect(second.deadLetterQueueUrl).toMatch(new RegExp(`/${name}-dlq$`));
    expect(Attributes?.VisibilityTimeout).toBe('1');
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toMatchObject({ maxReceiveCount: 1 });
    expect(delivery?.body).toBe('poison');
    expect(redelivered).toEqual([]);
    expect((await dlq.depth()).visible).toBe(1);
  });
});

describe('SqsQueue.consume on fauxqs', () => {
  it('never takes more messages than capacity allowed', async () => {
    const { queue } = await freshQueue();
    await queue.send(Array.from({ length: 20 }, (_, i) => ({ body: `c${i}` })));
    const controller = new AbortController();
    // A worker with 3 slots; a job finishes only while the poller waits for a free slot, so
    // capacity keeps changing between polls (3, then 1, 1, 1, ...).
    const slots = 3;
    const inHand: QueueMessage[] = [];
    const done: QueueMessage[] = [];
    const grants: number[] = [];
    const batchSizes: number[] = [];
    let maxInHand = 0;
    const errors: Error[] = [];

    await queue.consume({
      visibilitySeconds: 30,
      waitSeconds: 1,
      signal: controller.signal,
      onError: (err) => errors.push(err),
      capacity: async () => {
        if (inHand.length >= slots) {
          await new Promise((resolve) => setImmediate(resolve));
          done.push(inHand.shift()!);
        }
        grants.push(slots - inHand.length);
        return slots - inHand.length;
      },
      deliver: (messages) => {
        batchSizes.push(messages.length);
        inHand.push(...messages);
        maxInHand = Math.max(maxInHand, inHand.length);
        if (done.length + inHand.length === 20) controller.abort();
      },
    });
    done.push(...inHand.splice(0));
    await queue.ack(done.map((m) => m.lease));

    expect(errors).toEqual([]);
    expect(done).toHaveLength(20);
    expect(grants.slice(0, 3)).toEqual([3, 1, 1]);
    expect(batchSizes.every((size, i) => size <= grants[i]!)).toBe(true);
    expect(maxInHand).toBeLessThanOrEqual(slots);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('asks for up to ten messages per poll when capacity is larger', async () => {
    const { queue } = await freshQueue();
    await queue.send(Array.from({ length: 25 }, (_, i) => ({ body: `d${i}` })));
    const controller = new AbortController();
    const got: QueueMessage[] = [];
    const batchSizes: number[] = [];

    const consuming = queue.consume({
      visibilitySeconds: 30,
      waitSeconds: 1,
      signal: controller.signal,
      onError: () => {},
      capacity: async () => 100,
      deliver: (messages) => {
        batchSizes.push(messages.length);
        got.push(...messages);
        if (got.length >= 25) controller.abort();
      },
    });
    await consuming;

    expect(got).toHaveLength(25);
    expect(Math.max(...batchSizes)).toBe(10);
  });

  it('abort cancels a 20 s long poll and resolves once polling has stopped', async () => {
    const { queue } = await freshQueue();
    const controller = new AbortController();
    let polls = 0;
    const delivered: QueueMessage[] = [];
    const started = Date.now();

    const consuming = queue.consume({
      visibilitySeconds: 30,
      waitSeconds: 20,
      signal: controller.signal,
      onError: () => {},
      capacity: async () => {
        polls++;
        if (polls === 1) setTimeout(() => controller.abort(), 200);
        return 1;
      },
      deliver: (messages) => delivered.push(...messages),
    });
    await consuming;
    const elapsed = Date.now() - started;
    // Nothing polls afterwards. (The queue cannot show it: fauxqs keeps the cancelled long poll
    // open server-side, and that orphan would take a message sent now.)
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(polls).toBe(1);
    expect(delivered).toEqual([]);
    // Generous bound: only shows that the poll was cancelled, not left to run its 20 s.
    expect(elapsed).toBeLessThan(10_000);
  });

  it('reports polling errors through onError and keeps polling after a back-off', async () => {
    const { queueUrl } = await freshQueue();
    const missing = new SqsQueue({ client, queueUrl: `${queueUrl}-missing` });
    const controller = new AbortController();
    const errors: Error[] = [];

    await missing.consume({
      visibilitySeconds: 30,
      waitSeconds: 1,
      signal: controller.signal,
      onError: (err) => {
        errors.push(err);
        if (errors.length === 2) controller.abort();
      },
      capacity: async () => 1,
      deliver: () => {},
    });

    expect(errors).toHaveLength(2);
    expect(errors[0]).toBeInstanceOf(NotFoundError);
  });

  it('resolves at once when the signal is already aborted', async () => {
    const { queue } = await freshQueue();
    await queue.send([{ body: 'untouched' }]);
    const deliver = (messages: QueueMessage[]) => {
      throw new Error(`delivered ${messages.length}`);
    };

    await queue.consume({
      visibilitySeconds: 30,
      waitSeconds: 1,
      signal: AbortSignal.abort(),
      onError: () => {},
      capacity: async () => 1,
      deliver,
    });

    expect(await queue.depth()).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
  });
});
