// spotjobs-dlq: list a dead-letter queue, or replay chosen messages to the queue they came
// from, on the embedded store or on SQS. Exit codes: 0 done, 1 failed, 2 bad usage.
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsQueue } from '../adapters/aws/sqs-queue.ts';
import { openLocalStore } from '../adapters/local/local-store.ts';
import type { Queue } from '../ports/queue.ts';
import { type DeadLetterEntry, replayDeadLetters } from './replay-dead-letters.ts';

const usage = `usage: spotjobs-dlq list|replay <queue> [options]
  queue, one of:
    --data-dir DIR --queue NAME      the embedded store (its dead-letter queue is NAME-dlq)
    --queue-url URL --dlq-url URL    SQS (region and credentials from the AWS environment;
                                     --endpoint URL for an emulator)
  options:
    --reason REGEX    only messages whose dead-letter reason matches (JavaScript regex)
    --limit N         replay at most N messages
    --dry-run         replay: say what would be replayed, move nothing
    --json            one JSON object per message instead of a table`;

class UsageError extends Error {}

const options = {
  'data-dir': { type: 'string' },
  queue: { type: 'string' },
  'queue-url': { type: 'string' },
  'dlq-url': { type: 'string' },
  endpoint: { type: 'string' },
  reason: { type: 'string' },
  limit: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(argv: readonly string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options,
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const [command, ...rest] = positionals;
  if ((command !== 'list' && command !== 'replay') || rest.length > 0)
    throw new UsageError('give one command: list or replay');
  const reason = values.reason === undefined ? undefined : regex(values.reason);
  const limit = values.limit === undefined ? undefined : positiveInt('--limit', values.limit);
  const { deadLetters, target, close } = await openQueues(values);
  try {
    const report = await replayDeadLetters({
      deadLetters,
      target,
      select: (entry) => reason?.test(entry.reason ?? '') ?? true,
      ...(limit === undefined ? {} : { limit }),
      dryRun: command === 'list' || values['dry-run'] === true,
      signal,
    });
    const shown = reason ? report.entries.filter((entry) => reason.test(entry.reason ?? '')) : report.entries;
    for (const entry of shown) console.log(values.json ? JSON.stringify(entry) : row(entry));
    const moved =
      command === 'list'
        ? ''
        : values['dry-run']
          ? `, would replay ${Math.min(shown.length, limit ?? shown.length)}`
          : `, replayed ${report.replayed}`;
    console.error(`${report.entries.length} dead-lettered, ${shown.length} matching${moved}`);
    return 0;
  } finally {
    await close();
  }
}

async function openQueues(values: { [K in keyof typeof options]?: string | boolean }): Promise<{
  deadLetters: Queue;
  target: Queue;
  close: () => void | Promise<void>;
}> {
  const text = (name: keyof typeof options) => (typeof values[name] === 'string' ? values[name] : undefined);
  const dataDir = text('data-dir');
  const queueUrl = text('queue-url');
  if (dataDir !== undefined && queueUrl === undefined) {
    const name = text('queue');
    if (!name) throw new UsageError('--data-dir needs --queue NAME');
    const store = await openLocalStore({ dataDir });
    return { deadLetters: store.queue(`${name}-dlq`), target: store.queue(name), close: () => store.close() };
  }
  if (queueUrl !== undefined && dataDir === undefined) {
    const dlqUrl = text('dlq-url');
    if (!dlqUrl) throw new UsageError('--queue-url needs --dlq-url URL');
    const endpoint = text('endpoint');
    const client = new SQSClient(endpoint ? { endpoint } : {});
    return {
      deadLetters: new SqsQueue({ client, queueUrl: dlqUrl }),
      target: new SqsQueue({ client, queueUrl }),
      close: () => client.destroy(),
    };
  }
  throw new UsageError('give either --data-dir and --queue, or --queue-url and --dlq-url');
}

function row(entry: DeadLetterEntry): string {
  const reason = entry.reason ?? '(no reason recorded: moved by the queue’s own redrive)';
  return [
    entry.deadLetteredAt ?? '-',
    entry.originalId ?? entry.id,
    entry.replayed ? 'replayed' : 'kept',
    reason,
  ].join('  ');
}

function regex(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    throw new UsageError(`--reason: ${(error as Error).message}`);
  }
}

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${name}: a whole number ≥ 1`);
  return n;
}

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());
try {
  process.exitCode = await main(process.argv.slice(2), controller.signal);
} catch (error) {
  const bad = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  console.error(`spotjobs-dlq: ${(error as Error).message}${bad ? `\n${usage}` : ''}`);
  process.exitCode = bad ? 2 : 1;
}
