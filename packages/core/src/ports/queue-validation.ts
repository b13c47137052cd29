import type { ConsumeOptions, OutgoingMessage, QueueMessage, ReceiveOptions } from './queue.ts';
import { QueueLimits } from './queue.ts';
import { assertShape, integerProblem, throwIfProblems } from './validation.ts';

// What every `Queue` adapter accepts: SQS's rules, checked before a call reaches a backend, so
// code that runs on LocalQueue does not fail the first time it meets SQS, and SqsQueue saves a
// round trip and answers with every problem listed instead of SQS's first one.

// SQS accepts only XML 1.0 characters in bodies and attribute values:
// #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF (so no lone surrogates either).
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters SQS refuses are the point
const FORBIDDEN_CHARS = /[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const RESERVED_ATTRIBUTE_PREFIX = /^(aws|amazon)\./i;
// Every attribute is sent with DataType `String`, and SQS counts the type's bytes too.
const ATTRIBUTE_TYPE_BYTES = 'String'.length;

/**
 * The bytes SQS counts towards `QueueLimits.maxBodyBytes`: the body plus each attribute's
 * name, data type (`String`) and value.
 *
 * @example
 * ```ts
 * messagePayloadBytes({ body: 'hi', attributes: { kind: 'a' } }); // 2 + 4 + 6 + 1 = 13
 * ```
 */
export function messagePayloadBytes(message: OutgoingMessage): number {
  let bytes = Buffer.byteLength(message.body);
  for (const [name, value] of Object.entries(message.attributes ?? {})) {
    bytes += Buffer.byteLength(name) + ATTRIBUTE_TYPE_BYTES + Buffer.byteLength(value);
  }
  return bytes;
}

function attributeNameProblem(name: string): string | undefined {
  if (!ATTRIBUTE_NAME.test(name)) {
    return `attribute name ${JSON.stringify(name)} must be 1-256 of A-Za-z0-9_.-`;
  }
  if (RESERVED_ATTRIBUTE_PREFIX.test(name)) {
    return `attribute name ${JSON.stringify(name)} uses a reserved prefix (AWS. or Amazon.)`;
  }
  if (name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
    return `attribute name ${JSON.stringify(name)} has a leading, trailing or doubled period`;
  }
  return undefined;
}

function outgoingMessageProblems(message: OutgoingMessage): string[] {
  if (typeof message !== 'object' || message === null) return ['is not an object'];
  const problems: (string | undefined)[] = [];
  const { body, delaySeconds, attributes } = message;
  const bodyOk = typeof body === 'string' && body.length > 0;
  if (!bodyOk) problems.push('body must be a non-empty string');
  else if (FORBIDDEN_CHARS.test(body)) problems.push('body contains a character SQS does not accept');
  if (delaySeconds !== undefined) {
    problems.push(integerProblem('delaySeconds', delaySeconds, 0, QueueLimits.maxDelaySeconds));
  }
  let attributesOk = true;
  if (attributes !== undefined) {
    if (typeof attributes !== 'object' || attributes === null) {
      problems.push('attributes must be an object of strings');
      attributesOk = false;
    } else {
      const entries = Object.entries(attributes);
      if (entries.length > QueueLimits.maxAttributes) {
        problems.push(`has ${entries.length} attributes, at most ${QueueLimits.maxAttributes} are allowed`);
      }
      for (const [name, value] of entries) {
        problems.push(attributeNameProblem(name));
        if (typeof value !== 'string' || value.length === 0 || FORBIDDEN_CHARS.test(value)) {
          problems.push(
            `attribute ${JSON.stringify(name)} must be a non-empty string of characters SQS accepts`,
          );
          attributesOk = false;
        }
      }
    }
  }
  if (bodyOk && attributesOk) {
    const bytes = messagePayloadBytes(message);
    if (bytes > QueueLimits.maxBodyBytes) {
      problems.push(`is ${bytes} bytes with its attributes, more than ${QueueLimits.maxBodyBytes}`);
    }
  }
  return problems.filter((p): p is string => p !== undefined);
}

/**
 * Throws `ValidationError` listing every problem of a send batch: bodies, delays, attribute
 * names, values and count, and the size SQS counts (see `messagePayloadBytes`).
 *
 * @example
 * ```ts
 * assertOutgoingMessages([{ body: '{"n":1}', attributes: { kind: 'build' } }]); // passes
 * ```
 */
export function assertOutgoingMessages(messages: readonly OutgoingMessage[]): void {
  assertShape('invalid messages', 'messages', messages, 'array');
  const problems = messages.flatMap((message, index) =>
    outgoingMessageProblems(message).map((problem) => `message #${index}: ${problem}`),
  );
  throwIfProblems('invalid messages', problems);
}

function pollProblems(options: { readonly visibilitySeconds: number; readonly waitSeconds: number }) {
  return [
    integerProblem('visibilitySeconds', options.visibilitySeconds, 0, QueueLimits.maxVisibilitySeconds),
    integerProblem('waitSeconds', options.waitSeconds, 0, QueueLimits.maxWaitSeconds),
  ];
}

/**
 * Validates one poll: `maxMessages` 1–10, `visibilitySeconds` 0–43 200, `waitSeconds` 0–20.
 *
 * @example
 * ```ts
 * assertReceiveOptions({ maxMessages: 10, visibilitySeconds: 30, waitSeconds: 20 }); // passes
 * ```
 */
export function assertReceiveOptions(options: ReceiveOptions): void {
  assertShape('invalid receive options', 'options', options, 'object');
  throwIfProblems('invalid receive options', [
    integerProblem('maxMessages', options.maxMessages, 1, QueueLimits.maxBatch),
    ...pollProblems(options),
  ]);
}

/**
 * Validates `consume`'s visibility and wait (the same ranges as a poll's).
 *
 * @example
 * ```ts
 * assertConsumeOptions({ visibilitySeconds: 30, waitSeconds: 20, capacity, deliver, onError, signal });
 * ```
 */
export function assertConsumeOptions(options: ConsumeOptions): void {
  assertShape('invalid consume options', 'options', options, 'object');
  throwIfProblems('invalid consume options', pollProblems(options));
}

function leaseProblem(lease: unknown, label: string): string | undefined {
  return typeof lease === 'string' && lease !== '' ? undefined : `${label}: lease must be a non-empty string`;
}

/**
 * Validates the leases of an `ack`: non-empty strings (SQS refuses an empty receipt handle).
 *
 * @example
 * ```ts
 * assertLeases([message.lease]);
 * ```
 */
export function assertLeases(leases: readonly string[]): void {
  assertShape('invalid leases', 'leases', leases, 'array');
  throwIfProblems(
    'invalid leases',
    leases.map((lease, index) => leaseProblem(lease, `#${index}`)),
  );
}

/**
 * Validates an `extend` (`visibilitySeconds`) or `release` (`delaySeconds`) batch: each entry's
 * lease, and its seconds in 0–43 200 (a lease can be pushed out at most to SQS's 12 hours).
 *
 * @example
 * ```ts
 * assertLeaseChanges([{ lease, visibilitySeconds: 60 }], 'visibilitySeconds');
 * ```
 */
export function assertLeaseChanges(
  entries: readonly { readonly lease: string }[],
  field: 'visibilitySeconds' | 'delaySeconds',
): void {
  assertShape(`invalid ${field}`, 'entries', entries, 'array');
  throwIfProblems(
    `invalid ${field}`,
    entries.flatMap((entry, index) => {
      if (typeof entry !== 'object' || entry === null) return [`entry #${index}: is not an object`];
      const seconds = (entry as unknown as Record<string, unknown>)[field];
      return [
        leaseProblem(entry.lease, `entry #${index}`),
        integerProblem(`entry #${index} ${field}`, seconds, 0, QueueLimits.maxVisibilitySeconds),
      ];
    }),
  );
}

/**
 * Validates `deadLetter`'s arguments: a received message (with its lease) and a string reason.
 *
 * @example
 * ```ts
 * assertDeadLetter(message, 'schema mismatch');
 * ```
 */
export function assertDeadLetter(message: QueueMessage, reason: string): void {
  const isMessage = typeof message === 'object' && message !== null;
  throwIfProblems('invalid deadLetter', [
    isMessage ? leaseProblem(message.lease, 'message') : 'message must be a received message',
    typeof reason === 'string' ? undefined : 'reason must be a string',
  ]);
}

/**
 * `text` made fit for an attribute value: characters SQS refuses become U+FFFD, the result is
 * capped at `maxChars` code points (with `…`), and an empty one becomes `(empty)`, since SQS
 * refuses empty values.
 *
 * @example
 * ```ts
 * attributeText('bad\u0000input', 4096); // 'bad\ufffdinput'
 * ```
 */
export function attributeText(text: string, maxChars: number): string {
  const cleaned = Array.from(text, (ch) => (FORBIDDEN_CHARS.test(ch) ? '\ufffd' : ch));
  const capped = cleaned.length > maxChars ? `${cleaned.slice(0, maxChars - 1).join('')}…` : cleaned.join('');
  return capped === '' ? '(empty)' : capped;
}
