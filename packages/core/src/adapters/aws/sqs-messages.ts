import type { Message, MessageAttributeValue, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { OutgoingMessage, QueueMessage } from '../../ports/queue.ts';

// Conversions between the `Queue` port's shapes and SQS's. What a message may hold is the
// port's rule (`ports/queue-validation.ts`), checked before anything gets here.

/** The system attributes every receive asks for: enough to fill `receiveCount` and `sentAt`. */
export const SYSTEM_ATTRIBUTES = ['ApproximateReceiveCount', 'SentTimestamp'] as const;

export function toMessageAttributes(
  attributes: Readonly<Record<string, string>> | undefined,
): Record<string, MessageAttributeValue> | undefined {
  if (!attributes || Object.keys(attributes).length === 0) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
  );
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
