import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it, onTestFinished, vi } from 'vitest';
import type { Queue, QueueMessage } from '../src/ports/queue.ts';
import { localBackend, type RunnerBackend, sqsBackend } from './support/runner-backends.ts';

const worker = fileURLToPath(new URL('./fixtures/runner-worker.ts', import.meta.url));
const backends: RunnerBackend[] = [sqsBackend(inject('emulators').sqs), localBackend];

interface LogLine {
  readonly msg?: string;
  readonly name?: string;
  readonly outcome?: string;
  readonly reason?: string;
  readonly messageId?: string;
  readonly [key: string]: unknown;
}

function startWorker(env: Record<string, string>): {
  child: ChildProcess;
  lines: LogLine[];
  exited: Promise<[number | null, NodeJS.Signals | null]>;
} {
  const child = spawn(process.execPath, [worker], {
    env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: LogLine[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(JSON.parse(line) as LogLine);
  });
  return { child, lines, exited };
}

/** Another consumer: takes whatever becomes visible, with a long lease, until `count` or `timeoutMs`. */
async function takeVisible(queue: Queue, count: number, timeoutMs: number): Promise<QueueMessage[]> {
  const got: QueueMessage[] = [];
  const until = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < until) {
    got.push(...(await queue.receive({ maxMessages: 10, visibilitySeconds: 300, waitSeconds: 1 })));
  }
  return got;
}

describe.each(backends)('graceful shutdown of a worker process on the $name queue', (backend) => {
  it('on SIGTERM acks the jobs that finish, releases the rest at once, flushes its last log line and exits 0', async () => {
    const { queue, env } = await backend.create({ visibilitySeconds: 300 });
    const jobs = [
      { type: 'work', name: 'short-1', ms: 3_000 },
      { type: 'work', name: 'short-2', ms: 3_000 },
      { type: 'work', name: 'long-1', ms: 600_000 },
      { type: 'work', name: 'long-2', ms: 600_000 },
    ];
    await queue.send(jobs.map((job) => ({ body: JSON.stringify(job) })));
    // Visibility 300 s: a message another consumer gets within this test was released, not expired.
    const { child, lines, exited } = startWorker({
      ...env,
      RUNNER_VISIBILITY_SECONDS: '300',
      RUNNER_GRACE_MS: '5000',
    });

    await vi.waitFor(() => expect(lines.filter((l) => l.msg === 'working')).toHaveLength(4), {
      timeout: 20_000,
      interval: 20,
    });
    child.kill('SIGTERM');

    const reappeared = await takeVisible(queue, 2, 30_000);
    const [code, signal] = await exited;

    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(reappeared.map((m) => JSON.parse(m.body).name).sort()).toEqual(['long-1', 'long-2']);
    expect(reappeared.every((m) => m.receiveCount === 2)).toBe(true);

    const outcomes = lines.filter((l) => l.outcome !== undefined);
    expect(outcomes.filter((l) => l.outcome === 'succeeded')).toHaveLength(2);
    // The short jobs were still running when the signal came, and finished during the drain.
    const signalAt = lines.findIndex((l) => l.msg === 'signal received');
    expect(signalAt).toBeGreaterThan(-1);
    expect(lines.findIndex((l) => l.outcome === 'succeeded')).toBeGreaterThan(signalAt);
    expect(outcomes.filter((l) => l.outcome === 'released' && l.reason === 'shutdown')).toHaveLength(2);
    expect(lines.find((l) => l.msg === 'signal received')).toMatchObject({ signal: 'SIGTERM' });
    expect(lines.at(-1)).toMatchObject({ msg: 'runner stopped', jobs: { succeeded: 2, released: 2 } });

    // The short jobs were acked: nothing else is left to take.
    await queue.ack(reappeared.map((m) => m.lease));
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });
});
