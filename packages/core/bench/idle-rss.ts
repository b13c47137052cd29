import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EmulatorEndpoints } from '../src/testing/emulators.ts';
import { createBenchClient } from './bench-client.ts';
import { createBenchQueue, deleteBenchQueue } from './bench-queue.ts';
import type { IdleRssReport } from './fixtures/report-idle-rss.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** One side-by-side round: the idle worker and the bare floor, measured at the same time. */
export interface IdleRssRound {
  readonly worker: IdleRssReport;
  readonly bare: IdleRssReport;
}

/** Runs one fixture in a child process with `flags`, answers its report. */
async function runFixture(
  file: string,
  flags: readonly string[],
  env: Record<string, string>,
): Promise<IdleRssReport> {
  const child = spawn(process.execPath, [...flags, fixture(file)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const line = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`${file} exited with ${code}: ${out}`);
  return JSON.parse(line) as IdleRssReport;
}

/**
 * Idle RSS of a worker (a real `Runner` long-polling an empty SQS queue) against a bare
 * process loading the same AWS SDK packages and clients. Each round starts both children at
 * once, with the same Node flags, in alternating spawn order; each round uses a fresh queue.
 *
 * @example
 * ```ts
 * const rounds = await measureIdleRss(emulators.endpoints, 3);
 * rounds.map((r) => r.worker.rssPeak / r.bare.rssPeak);
 * ```
 */
export async function measureIdleRss(
  endpoints: EmulatorEndpoints,
  rounds: number,
  onRound: (round: IdleRssRound, index: number) => void = () => {},
): Promise<IdleRssRound[]> {
  // The same flags on both sides; `execArgv` carries e.g. `--cpu-prof` into neither.
  const flags: string[] = [];
  const client = createBenchClient(endpoints.sqs);
  const results: IdleRssRound[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const urls = await createBenchQueue(client, `idle-r${round}`);
      const env = {
        SPOTJOBS_BENCH_SQS: endpoints.sqs,
        SPOTJOBS_BENCH_DYNAMODB: endpoints.dynamodb,
        SPOTJOBS_BENCH_QUEUE_URL: urls.queueUrl,
        SPOTJOBS_BENCH_DLQ_URL: urls.deadLetterQueueUrl,
      };
      try {
        const start = (file: string) => runFixture(file, flags, env);
        // Spawned together, in alternating order, so neither always starts on a busier CPU.
        const first = round % 2 === 0 ? 'idle-worker.ts' : 'idle-bare.ts';
        const second = round % 2 === 0 ? 'idle-bare.ts' : 'idle-worker.ts';
        const [a, b] = await Promise.all([start(first), start(second)]);
        const worker = first === 'idle-worker.ts' ? a : b;
        const bare = first === 'idle-worker.ts' ? b : a;
        if (worker.state !== 'RUNNING' || !(Number(worker.receives) >= 1)) {
          throw new Error(`the idle worker was not long-polling: ${JSON.stringify(worker)}`);
        }
        const result = { worker, bare };
        onRound(result, round);
        results.push(result);
      } finally {
        await deleteBenchQueue(client, urls);
      }
    }
  } finally {
    client.destroy();
  }
  return results;
}
