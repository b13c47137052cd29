import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SqsQueue } from '../src/adapters/aws/index.ts';
import { ImdsInterruptionSource } from '../src/interruption/index.ts';
import { Runner } from '../src/runner/runner.ts';
import type { ReportRow } from '../src/testing/bench-report.ts';
import { percentile, summarise } from '../src/testing/bench-stats.ts';
import { createBenchClient } from './bench-client.ts';
import { benchJobSchema } from './bench-job.ts';
import { createBenchQueue, deleteBenchQueue, fillQueue } from './bench-queue.ts';
import { type RemoteImds, startRemoteImds } from './interruption-imds-remote.ts';
import { type BenchSettings, targets } from './scenarios.ts';

/** Messages in flight when the notice comes (the runner's concurrency: every slot busy). */
const IN_FLIGHT = 32;
const POLL_INTERVAL_MS = 1_000;
/** A real spot notice's lead: the deadline is far, so the measured time is the runner's own. */
const NOTICE_LEAD_MS = 120_000;
/** A run that has not released everything by then is reported as broken. */
const RUN_TIMEOUT_MS = 30_000;

/** One notice, from the stand-in serving it to the last release the queue confirmed. */
export interface NoticeRun {
  /** Serving the notice → the last `job:released` (emitted after the release call returned). */
  readonly latencyMs: number;
  /** Serving the notice → the runner's `interruption` event (the poll's phase, mostly). */
  readonly detectMs: number;
  /** The `interruption` event → the last release confirmed. */
  readonly releaseMs: number;
  /** The random wait between the jobs starting and the notice (the phase against the poll). */
  readonly phaseMs: number;
}

/** Rejects with the abort reason as soon as `signal` aborts: a handler that returns promptly. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`notice run stalled: ${what}`)), RUN_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One run: a `Runner` on an `SqsQueue` (fauxqs) with every one of its `IN_FLIGHT` slots busy
 * and an `ImdsInterruptionSource` polling the stand-in every second. After a random wait (so
 * the notice lands at a random phase of the poll) the stand-in starts serving a terminate
 * notice; the runner stops polling, aborts the jobs (which return at once) and releases
 * their messages. Checked afterwards: every message is visible again on the queue.
 */
export async function measureNoticeRun(
  client: SQSClient,
  imds: RemoteImds,
  label: string,
): Promise<NoticeRun> {
  const urls = await createBenchQueue(client, `notice-${label}`);
  try {
    await fillQueue(client, urls.queueUrl, IN_FLIGHT);
    const queue = new SqsQueue({ client, ...urls });
    const runner = await Runner.create({
      queue,
      concurrency: IN_FLIGHT,
      pollWaitSeconds: 1,
      interruptions: {
        sources: [new ImdsInterruptionSource({ endpoint: imds.url, pollIntervalMs: POLL_INTERVAL_MS })],
      },
      job: { schema: benchJobSchema, handle: (_job, ctx) => untilAborted(ctx.signal) },
    });
    const allStarted = Promise.withResolvers<void>();
    let started = 0;
    let released = 0;
    let lastReleasedAt = 0;
    let noticeSeenAt = 0;
    runner.on('job:started', () => {
      if (++started === IN_FLIGHT) allStarted.resolve();
    });
    runner.on('job:released', () => {
      released++;
      lastReleasedAt = Date.now();
    });
    runner.on('interruption', () => {
      noticeSeenAt = Date.now();
    });
    const running = runner.run();
    try {
      await withTimeout(allStarted.promise, `${started} of ${IN_FLIGHT} jobs started`);
      const phaseMs = Math.random() * POLL_INTERVAL_MS;
      await sleep(phaseMs);
      const servedAt = await imds.serve({ action: 'terminate', inMs: NOTICE_LEAD_MS });
      await withTimeout(running, `${released} of ${IN_FLIGHT} released`);
      const depth = await queue.depth();
      if (released !== IN_FLIGHT || depth.visible !== IN_FLIGHT) {
        throw new Error(
          `expected ${IN_FLIGHT} released and visible, got ${released} / ${JSON.stringify(depth)}`,
        );
      }
      return {
        latencyMs: lastReleasedAt - servedAt,
        detectMs: noticeSeenAt - servedAt,
        releaseMs: lastReleasedAt - noticeSeenAt,
        phaseMs,
      };
    } finally {
      await runner.stop({ graceMs: 0 });
      await imds.serve(undefined);
    }
  } finally {
    await deleteBenchQueue(client, urls);
  }
}

/**
 * Scenario 5: from a spot notice to every in-flight message released, over `noticeRuns`
 * runs with the IMDS source polling every second. Target: p50 ≤ 1.5 s (p95 reported).
 */
export async function noticeScenario(settings: BenchSettings): Promise<ReportRow[]> {
  const imds = await startRemoteImds();
  const client = createBenchClient(settings.endpoints.sqs);
  const runs: NoticeRun[] = [];
  try {
    await measureNoticeRun(client, imds, 'warmup');
    for (let i = 0; i < settings.noticeRuns; i++) {
      const run = await measureNoticeRun(client, imds, `r${i}`);
      runs.push(run);
      settings.log(
        `[notice r${i + 1}] released ${IN_FLIGHT} in ${run.latencyMs} ms after the notice was served ` +
          `(seen after ${run.detectMs} ms, phase ${run.phaseMs.toFixed(0)} ms; releases took ${run.releaseMs} ms)`,
      );
    }
  } finally {
    client.destroy();
    await imds.close();
  }
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  const latency = runs.map((r) => r.latencyMs);
  const p50 = percentile(latency, 0.5);
  const p95 = percentile(latency, 0.95);
  const detect = summarise(runs.map((r) => r.detectMs));
  const release = summarise(runs.map((r) => r.releaseMs));
  return [
    {
      scenario: `5. spot notice → ${IN_FLIGHT} in-flight released, ${runs.length} runs, IMDS poll 1 s`,
      core: `p50 ${ms(p50)}, p95 ${ms(p95)} [${ms(Math.min(...latency))}–${ms(Math.max(...latency))}]`,
      baseline: '-',
      ratio: '-',
      target: `p50 ≤ ${ms(targets.noticeReleaseP50Ms)}`,
      pass: p50 <= targets.noticeReleaseP50Ms,
    },
    {
      scenario: '   (info) of which: notice seen by the poller / releases',
      core: `median ${ms(detect.median)} / ${ms(release.median)}`,
      baseline: '-',
      ratio: '-',
      target: '-',
      pass: undefined,
    },
  ];
}
