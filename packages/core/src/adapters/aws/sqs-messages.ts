import type { Message, MessageAttributeValue, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import {
  type OutgoingMessage,
  QueueLimits,
  type QueueMessage,
  type ReceiveOptions,
} from '../../ports/queue.ts';
import { integerProblem, throwIfProblems } from './checks.ts';

// Checks and conversions between the `Queue` port's shapes and SQS's. SQS rejects what these
// reject, so failing here (with every problem listed) saves a round trip and a vaguer error.

/** The system attributes every receive asks for: enough to fill `receiveCount` and `sentAt`. */
export const SYSTEM_ATTRIBUTES = ['ApproximateReceiveCount', 'SentTimestamp'] as const;

// SQS accepts only XML 1.0 characters in bodies and attribute values.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters SQS refuses are the point
const FORBIDDEN_CHARS = /[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;

export function assertReceiveOptions(options: ReceiveOptions): void {
  throwIfProblems('invalid receive options', [
    integerProblem('maxMessages', options.maxMessages, 1, QueueLimits.maxBatch),
    integerProblem('visibilitySeconds', options.visibilitySeconds, 0, QueueLimits.maxVisibilitySeconds),
    integerProblem('waitSeconds', options.waitSeconds, 0, QueueLimits.maxWaitSeconds),
  ]);
}

export function attributeNameProblem(name: string): string | undefined {
  if (!ATTRIBUTE_NAME.test(name))
    return `attribute name ${JSON.stringify(name)} must be 1-256 of A-Za-z0-9_.-`;
  if (/^(aws|amazon)\./i.test(name)) return `attribute name ${JSON.stringify(name)} uses a reserved prefix`;
  if (name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
    return `attribute name ${JSON.stringify(name)} has a leading, trailing or doubled period`;
  }
  return undefined;
}

/** Throws `ValidationError` listing every way `message` breaks an SQS limit. */
export function assertOutgoing(message: OutgoingMessage, index: number): void {
  const problems: (string | undefined)[] = [];
  if (typeof message.body !== 'string' || message.body.length === 0)
    problems.push('body must be a non-empty string');
  else {
    if (Buffer.byteLength(message.body) > QueueLimits.maxBodyBytes) {
      problems.push(`body is larger than ${QueueLimits.maxBodyBytes} bytes`);
    }
    if (FORBIDDEN_CHARS.test(message.body)) problems.push('body contains characters SQS does not accept');
  }
  if (message.delaySeconds !== undefined) {
    problems.push(integerProblem('delaySeconds', message.delaySeconds, 0, QueueLimits.maxDelaySeconds));
  }
  const attributes = Object.entries(message.attributes ?? {});
  if (attributes.length > QueueLimits.maxAttributes) {
    problems.push(`more than ${QueueLimits.maxAttributes} attributes`);
  }
  for (const [name, value] of attributes) {
    problems.push(attributeNameProblem(name));
    if (typeof value !== 'string' || value.length === 0 || FORBIDDEN_CHARS.test(value)) {
      problems.push(`attribute ${JSON.stringify(name)} must be a non-empty string of characters SQS accepts`);
    }
  }
  throwIfProblems(`invalid message #${index}`, problems);
}

/** Replaces what SQS refuses in a free-text attribute value, and caps its length. */
export function sanitiseText(text: string, maxChars: number): string {
  const cleaned = Array.from(text, (ch) => (FORBIDDEN_CHARS.test(ch) ? '\ufffd' : ch));
  const capped = cleaned.length > maxChars ? `${cleaned.slice(0, maxChars - 1).join('')}…` : cleaned.join('');
  return capped === '' ? '(empty)' : capped;
}

export function toMessageAttributes(
  attributes: Readonly<Record<string, string>> | undefined,
): Record<string, MessageAttributeValue> | undefined {
  if (!attributes || Object.keys(attributes).length === 0) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
  );
}

/** The bytes SQS counts towards the 1 MiB payload: body plus attribute names, types and values. */
export function payloadBytes(message: OutgoingMessage): number {
  let bytes = Buffer.byteLength(message.body);
  for (const [name, value] of Object.entries(message.attributes ?? {})) {
    bytes += Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value);
  }
  return bytes;
}

export function toSendEntry(message: OutgoingMessage, id: string): SendMessageBatchRequestEntry {
  return {
    Id: id,
    MessageBody: message.body,
    DelaySeconds: message.delaySeconds,
    MessageAttributes: toMessageAttributes(message.attributes),
  };
}

/** An SQS message as the port's `QueueMessage`; String and Number attributes kept, Binary dropped. */
export function fromSqsMessage(message: Message): QueueMessage {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  return {
    id: message.MessageId ?? '',
    body: message.Body ?? '',
    lease: message.ReceiptHandle ?? '',
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
    sentAt: Number(message.Attributes?.SentTimestamp ?? 0),
    attributes,
  };
}
