// spotjobs-dlq as an operator runs it: a real process listing and replaying dead letters on
// the embedded store and on SQS (fauxqs), checked through the queues themselves.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { ensureSqsQueue, SqsQueue } from '../src/adapters/aws/index.ts';
import { openLocalStore } from '../src/adapters/local/local-store.ts';
import { replayDeadLetters } from '../src/dead-letters/replay-dead-letters.ts';
import { DeadLetterAttributes, type Queue, type QueueMessage } from '../src/ports/queue.ts';
import { awsTestClientConfig } from '../src/testing/emulators.ts';

const bin = new URL('../bin/spotjobs-dlq', import.meta.url).pathname;
const run = promisify(execFile);

async function dlq(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(bin, args, { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function receiveAll(queue: Queue, count: number): Promise<QueueMessage[]> {
  const got: QueueMessage[] = [];
  while (got.length < count) {
    const batch = await queue.receive({ maxMessages: 10, visibilitySeconds: 60, waitSeconds: 2 });
    if (batch.length === 0) break;
    got.push(...batch);
  }
  return got;
}

/** Six jobs dead-lettered: four machine faults, two poison messages. */
async function deadLetterSix(queue: Queue): Promise<void> {
  await queue.send(
    Array.from({ length: 6 }, (_, i) => ({
      body: JSON.stringify({ job: i }),
      attributes: { tenant: `t${i}` },
    })),
  );
  for (const message of await receiveAll(queue, 6)) {
    const { job } = JSON.parse(message.body) as { job: number };
    await queue.deadLetter(
      message,
      job < 4 ? `machine fault: engine down (${job})` : 'schema violation: steps',
    );
  }
}

/** Replays two of the four machine faults, leaves the rest, checks both queues afterwards. */
async function replayTwoMachineFaults(
  queues: { queue: Queue; deadLetters: Queue },
  where: string[],
  env = {},
) {
  const listed = await dlq(['list', ...where, '--json'], env);
  expect(listed.code, listed.stderr).toBe(0);
  const entries = listed.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(entries).toHaveLength(6);
  expect(entries.filter((e) => /^machine fault/.test(e.reason))).toHaveLength(4);
  expect(listed.stderr).toContain('6 dead-lettered, 6 matching');
  expect(await queues.queue.depth()).toMatchObject({ visible: 0 }); // listing moved nothing

  const dry = await dlq(['replay', ...where, '--reason', '^machine fault', '--dry-run'], env);
  expect(dry.stderr).toContain('6 dead-lettered, 4 matching, would replay 4');

  const replayed = await dlq(['replay', ...where, '--reason', '^machine fault', '--limit', '2'], env);
  expect(replayed.code, replayed.stderr).toBe(0);
  expect(replayed.stderr).toContain('replayed 2');

  const back = await receiveAll(queues.queue, 6);
  expect(back).toHaveLength(2);
  for (const message of back) {
    const { job } = JSON.parse(message.body) as { job: number };
    expect(job).toBeLessThan(4);
    // The job's own attribute travels back; the dead-letter bookkeeping does not.
    expect(message.attributes).toEqual({ tenant: `t${job}` });
  }
  // The other four are on the dead-letter queue again at once, with their reasons.
  const left = await receiveAll(queues.deadLetters, 6);
  expect(left.map((m) => m.attributes[DeadLetterAttributes.reason]).sort()).toEqual([
    expect.stringMatching(/^machine fault/),
    expect.stringMatching(/^machine fault/),
    'schema violation: steps',
    'schema violation: steps',
  ]);
}

describe('spotjobs-dlq', () => {
  it('lists and replays chosen dead letters on the embedded store', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'spotjobs-dlq-'));
    const store = await openLocalStore({ dataDir });
    onTestFinished(async () => {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    });
    const name = `jobs-${randomUUID().slice(0, 8)}`;
    await deadLetterSix(store.queue(name));
    await replayTwoMachineFaults({ queue: store.queue(name), deadLetters: store.queue(`${name}-dlq`) }, [
      '--data-dir',
      dataDir,
      '--queue',
      name,
    ]);
  });

  const client = new SQSClient({ ...awsTestClientConfig, endpoint: inject('emulators').sqs });
  const created: string[] = [];
  afterAll(async () => {
    await Promise.all(created.map((QueueUrl) => client.send(new DeleteQueueCommand({ QueueUrl }))));
    client.destroy();
  });

  it('lists and replays chosen dead letters on SQS', async () => {
    const urls = await ensureSqsQueue(client, `dlq-cli-${randomUUID().slice(0, 8)}`, {});
    created.push(urls.queueUrl, urls.deadLetterQueueUrl);
    const queue = new SqsQueue({ client, ...urls });
    await deadLetterSix(queue);
    await replayTwoMachineFaults(
      { queue, deadLetters: new SqsQueue({ client, queueUrl: urls.deadLetterQueueUrl }) },
      [
        '--queue-url',
        urls.queueUrl,
        '--dlq-url',
        urls.deadLetterQueueUrl,
        '--endpoint',
        inject('emulators').sqs,
      ],
      {
        AWS_REGION: awsTestClientConfig.region,
        AWS_ACCESS_KEY_ID: awsTestClientConfig.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: awsTestClientConfig.credentials.secretAccessKey,
      },
    );
  });

  it('a walk longer than its hold still lists each message once and puts every kept one back at once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'spotjobs-dlq-'));
    const store = await openLocalStore({ dataDir });
    onTestFinished(async () => {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    });
    const name = `jobs-${randomUUID().slice(0, 8)}`;
    const queue = store.queue(name);
    const deadLetters = store.queue(`${name}-dlq`);
    await deadLetterSix(queue);
    // Each replayed copy takes longer than the 1 s hold: the kept messages come back mid-walk.
    const slowTarget: Queue = Object.assign(Object.create(queue) as Queue, {
      send: async (messages: Parameters<Queue['send']>[0]) => {
        await new Promise((resolve) => setTimeout(resolve, 1_200));
        return queue.send(messages);
      },
    });
    const report = await replayDeadLetters({
      deadLetters,
      target: slowTarget,
      select: (entry) => /^machine fault/.test(entry.reason ?? ''),
      holdSeconds: 1,
    });
    expect(report.replayed).toBe(4);
    expect(new Set(report.entries.map((e) => e.id)).size).toBe(report.entries.length);
    expect(report.entries).toHaveLength(6);
    expect(await deadLetters.depth()).toEqual({ visible: 2, inFlight: 0, delayed: 0 });
  });

  it('refuses bad usage with a clear message and exit code 2', async () => {
    const cases = [
      { args: ['purge'], says: 'give one command: list or replay' },
      { args: ['list'], says: 'give either --data-dir and --queue, or --queue-url and --dlq-url' },
      { args: ['list', '--queue-url', 'https://sqs.example/1/q'], says: '--queue-url needs --dlq-url URL' },
      { args: ['replay', '--data-dir', '/nonexistent', '--queue', 'q', '--reason', '('], says: '--reason:' },
      {
        args: ['replay', '--data-dir', '/nonexistent', '--queue', 'q', '--limit', '0'],
        says: '--limit: a whole number',
      },
      { args: ['list', '--bogus'], says: "Unknown option '--bogus'" },
    ];
    for (const { args, says } of cases) {
      const result = await dlq(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(says);
    }
  });
});
