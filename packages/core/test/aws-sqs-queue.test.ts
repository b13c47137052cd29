import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsQueue } from '../src/adapters/aws/index.ts';
import { AbortedError, BackendError, ValidationError } from '../src/errors.ts';
import type { QueueMessage } from '../src/ports/queue.ts';

// SqsQueue against a scripted client: what goes into each SQS call, and how each answer is
// read back, without a network. The emulator tests cover the same calls end to end.

type Reply = (command: { input: Record<string, unknown> }) => unknown;

function fakeClient(replies: Record<string, Reply>) {
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  const client = {
    async send(command: { input: Record<string, unknown> }, options?: { abortSignal?: AbortSignal }) {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push({ name, input: command.input });
      if (options?.abortSignal?.aborted)
        throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
      const reply = replies[name];
      if (!reply) throw new Error(`unexpected ${name}`);
      return reply(command);
    },
  };
  return { client: client as unknown as SQSClient, calls };
}

const queueUrl = 'http://sqs.us-east-1.localhost:4566/000000000000/jobs';
const entriesOf = (input: Record<string, unknown>) =>
  input.Entries as { Id: string; ReceiptHandle: string }[];

describe('SqsQueue batching and per-entry results', () => {
  it('chunks 25 visibility changes into calls of 10 and maps failed entries to stale or failed, in order', async () => {
    const { client, calls } = fakeClient({
      ChangeMessageVisibilityBatch: ({ input }) => {
        const entries = entriesOf(input);
        const failed = entries.flatMap((entry) => {
          if (entry.ReceiptHandle === 'l3')
            return [{ Id: entry.Id, Code: 'ReceiptHandleIsInvalid', SenderFault: true }];
          if (entry.ReceiptHandle === 'l12') {
            return [
              {
                Id: entry.Id,
                Code: 'InvalidParameterValue',
                SenderFault: true,
                Message: `Value ${entry.ReceiptHandle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
              },
            ];
          }
          if (entry.ReceiptHandle === 'l20') {
            return [
              {
                Id: entry.Id,
                Code: 'InvalidParameterValue',
                SenderFault: true,
                Message:
                  'Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]',
              },
            ];
          }
          if (entry.ReceiptHandle === 'l24')
            return [{ Id: entry.Id, Code: 'InternalError', SenderFault: false }];
          return [];
        });
        const failedIds = new Set(failed.map((f) => f.Id));
        return {
          Failed: failed,
          Successful: entries.filter((e) => !failedIds.has(e.Id)).map((e) => ({ Id: e.Id })),
        };
      },
    });
    const queue = new SqsQueue({ client, queueUrl });
    const leases = Array.from({ length: 25 }, (_, i) => `l${i}`);

    const results = await queue.extend(leases.map((lease) => ({ lease, visibilitySeconds: 60 })));

    expect(calls.map((c) => entriesOf(c.input).length)).toEqual([10, 10, 5]);
    expect(results.map((r) => r.lease)).toEqual(leases);
    const summary = results.map((r) => (r.ok ? 'ok' : r.reason));
    expect(summary.filter((s) => s !== 'ok')).toEqual(['stale', 'stale', 'failed', 'failed']);
    expect(summary[3]).toBe('stale');
    expect(summary[12]).toBe('stale');
    expect(summary[20]).toBe('failed'); // beyond 12 h: the lease is fine, the extension is not
    expect(summary[24]).toBe('failed');
    const internal = results[24]!;
    expect(!internal.ok && internal.error).toBeInstanceOf(BackendError);
    expect(!internal.ok && (internal.error as BackendError).retryable).toBe(true);
  });

  it('answers failed for every entry of a chunk whose whole call failed, and keeps the other chunks', async () => {
    let call = 0;
    const { client } = fakeClient({
      DeleteMessageBatch: ({ input }) => {
        call++;
        if (call === 2) {
          throw Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
        }
        return { Successful: entriesOf(input).map((e) => ({ Id: e.Id })), Failed: [] };
      },
    });
    const queue = new SqsQueue({ client, queueUrl });
    const leases = Array.from({ length: 12 }, (_, i) => `l${i}`);

    const results = await queue.ack(leases);

    expect(results.slice(0, 10).every((r) => r.ok)).toBe(true);
    expect(results.slice(10)).toEqual([
      { lease: 'l10', ok: false, reason: 'failed', error: expect.any(BackendError) },
      { lease: 'l11', ok: false, reason: 'failed', error: expect.any(BackendError) },
    ]);
  });

  it('rejects with AbortedError instead of answering per entry when the signal aborts', async () => {
    const { client } = fakeClient({ DeleteMessageBatch: () => ({}) });
    const queue = new SqsQueue({ client, queueUrl });
    const controller = new AbortController();
    controller.abort();

    await expect(queue.ack(['l1'], controller.signal)).rejects.toBeInstanceOf(AbortedError);
  });

  it('returns at once for an empty batch, without calling SQS', async () => {
    const { client, calls } = fakeClient({});
    const queue = new SqsQueue({ client, queueUrl });

    expect(await queue.ack([])).toEqual([]);
    expect(await queue.extend([])).toEqual([]);
    expect(await queue.send([])).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('sends String attributes, maps ids back in order, and splits at 10 messages or 1 MiB', async () => {
    const { client, calls } = fakeClient({
      SendMessageBatch: ({ input }) => ({
        Successful: entriesOf(input)
          .map((e) => ({ Id: e.Id, MessageId: `id-${calls.length}-${e.Id}` }))
          .reverse(),
        Failed: [],
      }),
    });
    const queue = new SqsQueue({ client, queueUrl });
    const small = Array.from({ length: 12 }, (_, i) => ({ body: `m${i}`, attributes: { n: String(i) } }));
    const large = [{ body: 'x'.repeat(600_000) }, { body: 'y'.repeat(600_000) }];

    const ids = await queue.send([...small, ...large]);

    const sizes = calls.map((c) => entriesOf(c.input).length);
    expect(sizes).toEqual([10, 3, 1]);
    expect(ids).toHaveLength(14);
    expect(ids[0]).toBe('id-1-0');
    expect(ids[11]).toBe('id-2-1');
    const first = (calls[0]!.input.Entries as { MessageAttributes: unknown }[])[0];
    expect(first!.MessageAttributes).toEqual({ n: { DataType: 'String', StringValue: '0' } });
  });

  it('throws ValidationError when SQS refuses entries as the sender’s fault, BackendError otherwise', async () => {
    const refuse = (senderFault: boolean) =>
      fakeClient({
        SendMessageBatch: ({ input }) => ({
          Successful: [],
          Failed: entriesOf(input).map((e) => ({ Id: e.Id, Code: 'X', SenderFault: senderFault })),
        }),
      }).client;

    await expect(
      new SqsQueue({ client: refuse(true), queueUrl }).send([{ body: 'a' }]),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      new SqsQueue({ client: refuse(false), queueUrl }).send([{ body: 'a' }]),
    ).rejects.toBeInstanceOf(BackendError);
  });

  it('names itself after the queue in its URL', () => {
    const { client } = fakeClient({});

    expect(new SqsQueue({ client, queueUrl }).name).toBe('jobs');
    expect(new SqsQueue({ client, queueUrl, name: 'builds' }).name).toBe('builds');
  });
});

describe('SqsQueue.consume through sqs-consumer', () => {
  it('asks each ReceiveMessage for exactly the capacity granted just before it, capped at 10', async () => {
    let next = 0;
    const { client, calls } = fakeClient({
      ReceiveMessage: ({ input }) => ({
        Messages: Array.from(
          { length: input.MaxNumberOfMessages as number },
          (): Message => ({
            MessageId: `m${next}`,
            ReceiptHandle: `r${next++}`,
            Body: 'b',
            Attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1000' },
          }),
        ),
      }),
    });
    const queue = new SqsQueue({ client, queueUrl });
    const grants = [3, 1, 25, 2, 7];
    const batches: QueueMessage[][] = [];
    const controller = new AbortController();

    await queue.consume({
      visibilitySeconds: 45,
      waitSeconds: 20,
      signal: controller.signal,
      onError: (err) => {
        throw err;
      },
      capacity: async () => grants[batches.length] ?? 1,
      deliver: (messages) => {
        batches.push(messages);
        if (batches.length === grants.length) controller.abort();
      },
    });

    const receives = calls.filter((c) => c.name === 'ReceiveMessage');
    expect(receives.slice(0, 5).map((c) => c.input.MaxNumberOfMessages)).toEqual([3, 1, 10, 2, 7]);
    expect(batches.map((b) => b.length)).toEqual([3, 1, 10, 2, 7]);
    expect(receives[0]!.input).toMatchObject({
      QueueUrl: queueUrl,
      VisibilityTimeout: 45,
      WaitTimeSeconds: 20,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
    });
    expect(batches[0]![0]).toEqual({
      id: 'm0',
      body: 'b',
      lease: 'r0',
      receiveCount: 1,
      sentAt: 1000,
      attributes: {},
    });
    // Nothing but receives: no deletes, no heartbeats, no releases from sqs-consumer.
    expect(calls.every((c) => c.name === 'ReceiveMessage')).toBe(true);
  });

  it('passes an error thrown by deliver to onError untouched and keeps polling', async () => {
    const { client } = fakeClient({
      ReceiveMessage: () => ({ Messages: [{ MessageId: 'm', ReceiptHandle: 'r', Body: 'b' }] }),
    });
    const queue = new SqsQueue({ client, queueUrl });
    const controller = new AbortController();
    const boom = new Error('deliver failed');
    const errors: Error[] = [];
    let deliveries = 0;

    await queue.consume({
      visibilitySeconds: 30,
      waitSeconds: 1,
      signal: controller.signal,
      onError: (err) => errors.push(err),
      capacity: async () => 1,
      deliver: () => {
        deliveries++;
        if (deliveries === 2) controller.abort();
        throw boom;
      },
    });

    expect(deliveries).toBe(2);
    expect(errors[0]).toBe(boom);
  });

  it('stops while waiting for capacity, even when capacity ignores its signal', async () => {
    const { client, calls } = fakeClient({});
    const queue = new SqsQueue({ client, queueUrl });
    const controller = new AbortController();

    const consuming = queue.consume({
      visibilitySeconds: 30,
      waitSeconds: 20,
      signal: controller.signal,
      onError: () => {},
      capacity: () => new Promise<number>(() => {}), // never frees a slot
      deliver: () => {},
    });
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await consuming;

    expect(calls).toEqual([]);
  });

  it('rejects out-of-range consume options with ValidationError', async () => {
    const { client } = fakeClient({});
    const queue = new SqsQueue({ client, queueUrl });
    const base = {
      signal: new AbortController().signal,
      onError: () => {},
      capacity: async () => 1,
      deliver: () => {},
    };

    await expect(queue.consume({ ...base, visibilitySeconds: 30, waitSeconds: 21 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(queue.consume({ ...base, visibilitySeconds: -1, waitSeconds: 1 })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});
