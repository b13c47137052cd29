// The Queue port's input rules (SQS's), tested once here; LocalQueue and SqsQueue both call
// them, and their own tests only check that they do.
import { describe, expect, it } from 'vitest';
import { deadLetterAttributes } from '../src/ports/dead-letter-attributes.ts';
import {
  DeadLetterAttributes,
  type OutgoingMessage,
  QueueLimits,
  type QueueMessage,
} from '../src/ports/queue.ts';
import {
  assertConsumeOptions,
  assertDeadLetter,
  assertLeaseChanges,
  assertLeases,
  assertOutgoingMessages,
  assertReceiveOptions,
  attributeText,
  messagePayloadBytes,
} from '../src/ports/queue-validation.ts';
import { issuesOf } from './support/validation-issues.ts';

const send = (...messages: OutgoingMessage[]) => issuesOf(() => assertOutgoingMessages(messages));

describe('queue message rules', () => {
  it('accepts bodies and attribute values of every character SQS accepts, astral ones included', () => {
    expect(send({ body: 'tab\t nl\n cr\r ok é 😀 \uFFFD', attributes: { 'a-b_c.d': 'v 😀' } })).toEqual([]);
  });

  it('rejects empty or non-string bodies, characters SQS refuses and lone surrogates', () => {
    for (const body of [
      '',
      'nul \u0000',
      'bell \u0007',
      'lone \uD800 half',
      '\uFFFE',
      42 as unknown as string,
    ]) {
      expect(send({ body }), JSON.stringify(body)).toHaveLength(1);
    }
  });

  it('accepts attribute names of 1-256 of A-Za-z0-9_.- and rejects the rest', () => {
    for (const name of ['a', 'A.b-c_d', 'x'.repeat(256), 'awsx.y', 'my.AWS.thing']) {
      expect(send({ body: 'x', attributes: { [name]: 'v' } }), name).toEqual([]);
    }
    for (const name of [
      '',
      'x'.repeat(257),
      'with space',
      'é',
      'AWS.trace',
      'aws.x',
      'Amazon.y',
      'amazon.z',
      '.lead',
      'trail.',
      'a..b',
    ]) {
      const issues = send({ body: 'x', attributes: { [name]: 'v' } });
      expect(issues, name).toHaveLength(1);
      expect(issues[0]).toMatch(/^message #0: attribute name/);
    }
  });

  it('rejects empty, non-string and unacceptable attribute values', () => {
    for (const value of ['', 1 as unknown as string, 'nul\u0000']) {
      expect(send({ body: 'x', attributes: { a: value } }), String(value)).toHaveLength(1);
    }
    expect(send({ body: 'x', attributes: 'a=b' as never })).toEqual([
      'message #0: attributes must be an object of strings',
    ]);
  });

  it('allows at most 10 attributes', () => {
    const attributes = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, 'v']));

    expect(send({ body: 'x', attributes: attributes(QueueLimits.maxAttributes) })).toEqual([]);
    expect(send({ body: 'x', attributes: attributes(QueueLimits.maxAttributes + 1) })).toHaveLength(1);
  });

  it('takes delaySeconds as an integer from 0 to 900', () => {
    for (const delaySeconds of [0, 1, QueueLimits.maxDelaySeconds]) {
      expect(send({ body: 'x', delaySeconds }), String(delaySeconds)).toEqual([]);
    }
    for (const delaySeconds of [-1, 1.5, Number.NaN, QueueLimits.maxDelaySeconds + 1, '5' as never]) {
      expect(send({ body: 'x', delaySeconds }), String(delaySeconds)).toHaveLength(1);
    }
  });

  it('counts body, attribute names, data type and values towards the 1 MiB limit, as SQS does', () => {
    const attributes = { kind: 'big' };
    const room = QueueLimits.maxBodyBytes - 'kind'.length - 'String'.length - 'big'.length;
    const exact = { body: 'x'.repeat(room), attributes };

    expect(messagePayloadBytes(exact)).toBe(QueueLimits.maxBodyBytes);
    expect(send(exact)).toEqual([]);
    expect(send({ body: `${exact.body}y`, attributes })).toEqual([
      `message #0: is ${QueueLimits.maxBodyBytes + 1} bytes with its attributes, more than ${QueueLimits.maxBodyBytes}`,
    ]);
    // Multi-byte characters count by their UTF-8 bytes.
    expect(send({ body: 'é'.repeat(QueueLimits.maxBodyBytes / 2) })).toEqual([]);
    expect(send({ body: `${'é'.repeat(QueueLimits.maxBodyBytes / 2)}x` })).toHaveLength(1);
  });

  it('lists every problem of a batch, numbered by message, in one ValidationError', () => {
    const issues = send(
      { body: 'fine' },
      { body: '', delaySeconds: -1 },
      { body: 'x', attributes: { 'AWS.x': '' } },
      null as never,
    );

    expect(issues).toHaveLength(5);
    expect(issues.filter((issue) => issue.startsWith('message #1: '))).toHaveLength(2);
    expect(issues.filter((issue) => issue.startsWith('message #2: '))).toHaveLength(2);
    expect(issues[4]).toBe('message #3: is not an object');
    expect(issuesOf(() => assertOutgoingMessages('x' as never))).toEqual(['messages must be an array']);
    expect(send()).toEqual([]);
  });
});

describe('queue receive, consume and lease rules', () => {
  it('takes maxMessages 1-10, visibilitySeconds 0-43 200 and waitSeconds 0-20 on a receive', () => {
    const receive = (maxMessages: number, visibilitySeconds: number, waitSeconds: number) =>
      issuesOf(() => assertReceiveOptions({ maxMessages, visibilitySeconds, waitSeconds }));

    expect(receive(1, 0, 0)).toEqual([]);
    expect(
      receive(QueueLimits.maxBatch, QueueLimits.maxVisibilitySeconds, QueueLimits.maxWaitSeconds),
    ).toEqual([]);
    expect(receive(0, -1, -1)).toHaveLength(3);
    expect(receive(QueueLimits.maxBatch + 1, QueueLimits.maxVisibilitySeconds + 1, 21)).toHaveLength(3);
    expect(receive(1.5, Number.NaN, 0.5)).toHaveLength(3);
    expect(issuesOf(() => assertReceiveOptions(null as never))).toEqual(['options must be an object']);
  });

  it('takes the same visibility and wait ranges on consume', () => {
    const consume = (visibilitySeconds: number, waitSeconds: number) =>
      issuesOf(() => assertConsumeOptions({ visibilitySeconds, waitSeconds } as never));

    expect(consume(30, 20)).toEqual([]);
    expect(consume(30, 21)).toHaveLength(1);
    expect(consume(-1, 1)).toHaveLength(1);
    expect(consume(QueueLimits.maxVisibilitySeconds + 1, 0)).toHaveLength(1);
  });

  it('takes leases as non-empty strings, and lease changes of 0-43 200 s', () => {
    expect(issuesOf(() => assertLeases(['a', 'b']))).toEqual([]);
    expect(issuesOf(() => assertLeases(['a', '', 1 as never]))).toEqual([
      '#1: lease must be a non-empty string',
      '#2: lease must be a non-empty string',
    ]);
    expect(issuesOf(() => assertLeases('a' as never))).toEqual(['leases must be an array']);

    const extend = (entries: unknown[]) =>
      issuesOf(() => assertLeaseChanges(entries as never, 'visibilitySeconds'));
    expect(
      extend([
        { lease: 'l', visibilitySeconds: 0 },
        { lease: 'm', visibilitySeconds: 43_200 },
      ]),
    ).toEqual([]);
    expect(extend([{ lease: '', visibilitySeconds: 43_201 }, null])).toEqual([
      'entry #0: lease must be a non-empty string',
      'entry #0 visibilitySeconds must be an integer from 0 to 43200 (got 43201)',
      'entry #1: is not an object',
    ]);
    const release = (entries: unknown[]) =>
      issuesOf(() => assertLeaseChanges(entries as never, 'delaySeconds'));
    expect(release([{ lease: 'l', delaySeconds: 900 }])).toEqual([]);
    expect(release([{ lease: 'l', delaySeconds: -1 }])).toHaveLength(1);
    expect(release([{ lease: 'l', visibilitySeconds: 5 }])).toHaveLength(1); // the wrong field
  });

  it('takes a received message and a string reason on deadLetter', () => {
    const message = { lease: 'l' } as QueueMessage;

    expect(issuesOf(() => assertDeadLetter(message, 'why'))).toEqual([]);
    expect(issuesOf(() => assertDeadLetter({} as QueueMessage, 'why'))).toHaveLength(1);
    expect(issuesOf(() => assertDeadLetter(null as never, 1 as never))).toHaveLength(2);
  });
});

describe('dead-letter attributes', () => {
  const origin = {
    reason: 'bad input',
    sourceQueue: 'jobs',
    originalId: 'id-1',
    receiveCount: 3,
    deadLetteredAt: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
  };

  it('records reason, source, original id, receive count and time, keeping the message attributes', () => {
    expect(deadLetterAttributes(origin, { tenant: 'acme' })).toEqual({
      tenant: 'acme',
      [DeadLetterAttributes.reason]: 'bad input',
      [DeadLetterAttributes.sourceQueue]: 'jobs',
      [DeadLetterAttributes.originalId]: 'id-1',
      [DeadLetterAttributes.receiveCount]: '3',
      [DeadLetterAttributes.deadLetteredAt]: '2025-01-02T03:04:05.000Z',
    });
  });

  it('keeps within SQS limit of 10: its own five first, then the message attributes that fit', () => {
    const own = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, `v${i}`]));
    own[DeadLetterAttributes.reason] = 'an older reason';

    const attributes = deadLetterAttributes(origin, own);

    expect(Object.keys(attributes)).toHaveLength(QueueLimits.maxAttributes);
    expect(attributes).toMatchObject({ a0: 'v0', a4: 'v4', [DeadLetterAttributes.reason]: 'bad input' });
    expect(issuesOf(() => assertOutgoingMessages([{ body: 'x', attributes }]))).toEqual([]);
  });

  it('makes any reason a valid attribute value: refused characters replaced, capped at 4096, never empty', () => {
    const reason = (text: string) =>
      deadLetterAttributes({ ...origin, reason: text }, {})[DeadLetterAttributes.reason];

    expect(reason(`bad\u0000input \uD800`)).toBe('bad\uFFFDinput \uFFFD');
    expect(reason('')).toBe('(empty)');
    const long = reason('😀'.repeat(5000));
    expect(Array.from(long ?? '')).toHaveLength(4096);
    expect(long).toMatch(/^😀+…$/u);
    expect(attributeText('short', 4096)).toBe('short');
  });
});
