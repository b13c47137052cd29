import { setTimeout as delay } from 'node:timers/promises';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { AbortedError, ValidationError } from '../../errors.ts';
import { type ConsumeOptions, QueueLimits } from '../../ports/queue.ts';
import { assertConsumeOptions } from '../../ports/queue-validation.ts';
import { systemClock } from '../../time/system-clock.ts';
import { fromSqsMessage, SYSTEM_ATTRIBUTES } from './sqs-messages.ts';
import { translateAwsError } from './translate-aws-error.ts';

const BACKOFF_BASE_MS = 200;
const BACKOFF_MAX_MS = 10_000;
// How often `consume` re-checks, once stopped, whether sqs-consumer's last poll has settled.
// The aborted request rejects within milliseconds, so this only bounds a short wait.
const IDLE_CHECK_MS = 10;

/** Exponential back-off with jitter after `failures` polls in a row failed. */
function backoffMs(failures: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}

/** `promise`, or `AbortedError` as soon as `signal` aborts (a `capacity` that ignores its signal must not hang shutdown). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => {}); // rejections after an abort are nobody's business
  if (signal.aborted) return Promise.reject(new AbortedError({ cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError({ cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * `Queue.consume` for SQS, polling through sqs-consumer (the design requires it) while keeping
 * polling apart from execution: a batch is handed to `deliver` and the next poll starts at
 * once, never waiting for the work; nothing is acked, extended or deleted by sqs-consumer.
 *
 * Each poll asks for exactly what `capacity` grants. sqs-consumer 15 reads `batchSize` into
 * the request *before* it runs `preReceiveMessageCallback`:
 *
 * ```
 * poll():          params = { MaxNumberOfMessages: this.batchSize, ... }   <- read here
 * receiveMessage:  await preReceiveMessageCallback()                       <- capacity known here
 *                  sqs.send(new ReceiveMessageCommand(params))
 * ```
 *
 * so `updateOption('batchSize', n)` in the hook alone would only size the *next* poll, and a
 * worker whose capacity dropped could take more than it can start. The hook therefore also
 * records the grant, and the client handed to sqs-consumer (the caller's client underneath;
 * fauxqs queue URLs do not resolve, so sqs-consumer must never build its own) rewrites
 * `MaxNumberOfMessages` of the request going out.
 *
 * On abort, `stop({ abort: true })` cancels the long poll in flight, and the promise resolves
 * once sqs-consumer's last poll has settled. A batch whose response had already arrived is
 * still delivered (its messages are leased: dropping them would hide them for
 * `visibilitySeconds`). A cancelled long poll may still take a message server-side (fauxqs
 * keeps it open for its full wait), which then stays hidden until its lease runs out.
 */
export async function consumeWithSqsConsumer(
  client: SQSClient,
  queueUrl: string,
  options: ConsumeOptions,
): Promise<void> {
  assertConsumeOptions(options);
  const { signal } = options;
  if (signal.aborted) return;

  let granted = 1;
  let failures = 0;
  const gatedClient: SQSClient = Object.create(client, {
    send: {
      value: async (command: unknown, sendOptions?: { abortSignal?: AbortSignal }) => {
        if (!(command instanceof ReceiveMessageCommand)) {
          return client.send(command as ReceiveMessageCommand, sendOptions);
        }
        const capped = new ReceiveMessageCommand({ ...command.input, MaxNumberOfMessages: granted });
        const output = await client.send(capped, sendOptions);
        failures = 0;
        return output;
      },
    },
  });

  const consumer = Consumer.create({
    queueUrl,
    sqs: gatedClient,
    batchSize: 1,
    visibilityTimeout: options.visibilitySeconds,
    waitTimeSeconds: options.waitSeconds,
    messageSystemAttributeNames: [...SYSTEM_ATTRIBUTES],
    messageAttributeNames: ['All'],
    // Acks, heartbeats and releases are the runner's, batched across all its messages.
    shouldDeleteMessages: false,
    // Our own back-off (below) covers every error alike; sqs-consumer's would add 10 s on top.
    authenticationErrorTimeout: 0,
    preReceiveMessageCallback: async () => {
      if (failures > 0) await systemClock.sleep(backoffMs(failures), signal);
      const capacity = await untilAborted(
        Promise.resolve().then(() => options.capacity(signal)),
        signal,
      );
      if (!(capacity >= 1)) {
        throw new ValidationError('capacity() must resolve with at least 1', [String(capacity)]);
      }
      granted = Math.min(QueueLimits.maxBatch, Math.floor(capacity));
      consumer.updateOption('batchSize', granted);
    },
    handleMessageBatch: async (messages) => {
      options.deliver(messages.map(fromSqsMessage));
      return []; // acknowledge nothing: since v14 only returned messages are deleted
    },
  });

  consumer.on('error', (err, messages) => {
    if (signal.aborted) return;
    const cause = (err as { cause?: unknown }).cause ?? err;
    if (messages !== undefined) {
      // `deliver` threw: the caller's own error, passed through untouched.
      options.onError(cause instanceof Error ? cause : err);
      return;
    }
    failures++;
    options.onError(translateAwsError(cause, { operation: 'ReceiveMessage', key: queueUrl }));
  });

  const stopped = new Promise<void>((resolve) => {
    signal.addEventListener(
      'abort',
      () => {
        // `abort: true` cancels the long poll in flight instead of waiting up to 20 s for it.
        consumer.stop({ abort: true });
        const waitIdle = async () => {
          while (consumer.status.isPolling) await delay(IDLE_CHECK_MS);
          resolve();
        };
        void waitIdle();
      },
      { once: true },
    );
  });
  consumer.start();
  await stopped;
}
