import { ValidationError } from '../../errors.ts';
import type { OutgoingMessage, ReceiveOptions } from '../../ports/queue.ts';
import { QueueLimits } from '../../ports/queue.ts';

// Boundary checks for LocalQueue, mirroring what SQS rejects, so code that runs on the embedded
// default does not fail the first time it meets AWS.

// SQS allows #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF (lone surrogates excluded).
const INVALID_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
// SQS attribute names: letters, digits, `_ - .`; not starting with a period, no `..`.
const ATTRIBUTE_NAME = /^(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9_.-]{1,256}$/;
const RESERVED_ATTRIBUTE_PREFIX = /^(aws\.|amazon\.)/i;

/** Queue names follow SQS: 1–80 letters, digits, `-` and `_`. */
export function assertQueueName(name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
    throw new ValidationError(`invalid queue name ${JSON.stringify(name)}`, [
      'a queue name is 1 to 80 letters, digits, - or _',
    ]);
  }
}

/** Throws `ValidationError` listing every problem of a send batch. */
export function assertOutgoingMessages(messages: readonly OutgoingMessage[]): void {
  if (!Array.isArray(messages)) throw new ValidationError('messages must be an array');
  const issues: string[] = [];
  messages.forEach((message, index) => {
    for (const issue of outgoingMessageProblems(message)) issues.push(`message ${index}: ${issue}`);
  });
  if (issues.length > 0) throw new ValidationError('invalid messages', issues);
}

function outgoingMessageProblems(message: OutgoingMessage): string[] {
  if (typeof message !== 'object' || message === null) return ['is not an object'];
  const issues: string[] = [];
  const { body, delaySeconds, attributes } = message;
  let size = 0;
  if (typeof body !== 'string' || body.length === 0) {
    issues.push('body must be a non-empty string');
  } else {
    size += Buffer.byteLength(body);
    if (INVALID_CHARACTER.test(body)) issues.push('body contains a character SQS does not allow');
  }
  if (delaySeconds !== undefined) {
    const problem = secondsProblem('delaySeconds', delaySeconds, QueueLimits.maxDelaySeconds);
    if (problem) issues.push(problem);
  }
  if (attributes !== undefined) {
    if (typeof attributes !== 'object' || attributes === null) {
      issues.push('attributes must be an object of strings');
    } else {
      const entries = Object.entries(attributes);
      if (entries.length > QueueLimits.maxAttributes) {
        issues.push(`has ${entries.length} attributes, at most ${QueueLimits.maxAttributes} are allowed`);
      }
      for (const [name, value] of entries) {
        if (!ATTRIBUTE_NAME.test(name) || RESERVED_ATTRIBUTE_PREFIX.test(name)) {
          issues.push(`attribute name ${JSON.stringify(name)} is not allowed`);
        }
        if (typeof value !== 'string' || value.length === 0) {
          issues.push(`attribute ${JSON.stringify(name)} must be a non-empty string`);
        } else {
          if (INVALID_CHARACTER.test(value)) {
            issues.push(`attribute ${JSON.stringify(name)} contains a character SQS does not allow`);
          }
          size += Buffer.byteLength(name) + Buffer.byteLength(value);
        }
      }
    }
  }
  // SQS counts attributes towards the message size, so we do too.
  if (size > QueueLimits.maxBodyBytes) {
    issues.push(`is ${size} bytes with its attributes, more than ${QueueLimits.maxBodyBytes}`);
  }
  return issues;
}

/** Validates one poll's options. */
export function assertReceiveOptions(options: ReceiveOptions): void {
  if (typeof options !== 'object' || options === null) throw new ValidationError('receive options missing');
  const { maxMessages, visibilitySeconds, waitSeconds } = options;
  const issues = [
    integerProblem('maxMessages', maxMessages, 1, QueueLimits.maxBatch),
    secondsProblem('visibilitySeconds', visibilitySeconds, QueueLimits.maxVisibilitySeconds),
    secondsProblem('waitSeconds', waitSeconds, QueueLimits.maxWaitSeconds),
  ].filter((issue) => issue !== undefined);
  if (issues.length > 0) throw new ValidationError('invalid receive options', issues);
}

/** Validates the `visibilitySeconds`/`delaySeconds` of an extend or release batch. */
export function assertLeaseSeconds(
  entries: readonly { readonly lease: string }[],
  field: 'visibilitySeconds' | 'delaySeconds',
): void {
  if (!Array.isArray(entries)) throw new ValidationError('entries must be an array');
  const issues: string[] = [];
  entries.forEach((entry, index) => {
    if (typeof entry?.lease !== 'string') issues.push(`entry ${index}: lease must be a string`);
    const seconds = (entry as unknown as Record<string, unknown>)?.[field];
    const problem = secondsProblem(field, seconds, QueueLimits.maxVisibilitySeconds);
    if (problem) issues.push(`entry ${index}: ${problem}`);
  });
  if (issues.length > 0) throw new ValidationError(`invalid ${field}`, issues);
}

export function secondsProblem(field: string, value: unknown, max: number): string | undefined {
  return integerProblem(field, value, 0, max);
}

function integerProblem(field: string, value: unknown, min: number, max: number): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return undefined;
  return `${field} must be an integer from ${min} to ${max}, got ${String(value)}`;
}
