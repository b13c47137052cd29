import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchSettings as SharedBenchSettings } from '../src/testing/bench-main.ts';
import { formatSummary, type ReportRow } from '../src/testing/bench-report.ts';
import { summarise } from '../src/testing/bench-stats.ts';
import type { EmulatorEndpoints } from '../src/testing/emulators.ts';
import type { DrainResult } from './drain-probe.ts';
import { drainWithRunner } from './drain-with-runner.ts';
import { measureIdleRss } from './idle-rss.ts';
import { runSideBySide, type Side } from './side-by-side.ts';
import { drainWithSqsConsumer } from './sqs-consumer-baseline.ts';

/** How big and how often; `run.ts` reads them from the environment. */
export interface BenchSettings extends SharedBenchSettings {
  readonly endpoints: EmulatorEndpoints;
  readonly noopMessages: number;
  readonly ioMessages: number;
  /** Spot notices measured in scenario 5. */
  readonly noticeRuns: number;
  /** Monitoring on/off pairs in scenario 6. */
  readonly overheadRounds: number;
  /** Messages per drain in scenario 6. */
  readonly overheadMessages: number;
}

/** The targets of the issue, in one place. */
export const targets = {
  noopThroughputRatio: 1.0,
  ioThroughputRatio: 5.0,
  requestsPerMessage: 0.25,
  idleRssRatio: 1.25,
  /** Spot notice → every in-flight message released, median, with a 1 s IMDS poll. */
  noticeReleaseP50Ms: 1_500,
  /** Throughput with interruption monitoring on / off: a cost of at most 2 %. */
  monitoringThroughputRatio: 0.98,
} as const;

/** The core's concurrency in both throughput scenarios. */
const CORE_CONCURRENCY = 64;
const IO_MS = 50;

const core: Side = { name: 'core', drain: (o) => drainWithRunner(o, CORE_CONCURRENCY) };
const consumerBatch: Side = { name: 'sqs-consumer-batch', drain: (o) => drainWithSqsConsumer(o, 'batch') };
const consumerSingle: Side = { name: 'sqs-consumer-single', drain: (o) => drainWithSqsConsumer(o, 'single') };

function describeDrain(label: string, side: string, round: number, r: DrainResult): string {
  const ops = Object.entries(r.byOperation)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ');
  const batches =
    `${r.messagesPerReceive.toFixed(1)} msg/receive` +
    (r.entriesPerDeleteBatch > 0 ? `, ${r.entriesPerDeleteBatch.toFixed(1)} per delete batch` : '');
  return (
    `[${label} r${round + 1}] ${side.padEnd(19)} ${r.throughput.toFixed(0).padStart(5)} msg/s ` +
    `(${(r.elapsedMs / 1000).toFixed(2)} s), ${r.requestsPerMessage.toFixed(3)} req/msg (${ops}; ${batches}), ` +
    `CPU ${r.cpuPct.toFixed(0)} %`
  );
}

/** Per-round ratio of two sides' figures: paired rounds cancel load that drifts between rounds. */
function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  return a.map((value, i) => value / (b[i] ?? Number.NaN));
}

function field(
  results: Map<string, DrainResult[]>,
  side: string,
  pick: (r: DrainResult) => number,
): number[] {
  return (results.get(side) ?? []).map(pick);
}

/**
 * Scenarios 1 and 3: a no-op handler. The core (concurrency 64) against sqs-consumer's
 * `handleMessageBatch` for throughput, and against `handleMessage` for requests per message.
 */
export async function noopScenario(settings: BenchSettings): Promise<ReportRow[]> {
  const results = await runSideBySide({
    label: 'noop',
    endpoint: settings.endpoints.sqs,
    sides: [core, consumerBatch, consumerSingle],
    messages: settings.noopMessages,
    warmupMessages: Math.min(1_000, settings.noopMessages),
    rounds: settings.rounds,
    work: async () => {},
    onDrain: (side, round, r) => settings.log(describeDrain('no-op', side, round, r)),
  });
  const throughput = (side: string) => field(results, side, (r) => r.throughput);
  const perMessage = (side: string) => field(results, side, (r) => r.requestsPerMessage);
  const ratio = summarise(pairedRatios(throughput('core'), throughput(consumerBatch.name)));
  const coreRequests = summarise(perMessage('core'));
  return [
    {
      scenario: `1. no-op throughput, msg/s (core c=${CORE_CONCURRENCY} vs handleMessageBatch)`,
      core: formatSummary(summarise(throughput('core'))),
      baseline: formatSummary(summarise(throughput(consumerBatch.name))),
      ratio: formatSummary(ratio, 2, '×'),
      target: `≥ ${targets.noopThroughputRatio.toFixed(1)}×`,
      pass: ratio.median >= targets.noopThroughputRatio,
    },
    {
      scenario: '3. SQS requests/msg, no-op (vs handleMessage)',
      core: formatSummary(coreRequests, 3),
      baseline: formatSummary(summarise(perMessage(consumerSingle.name)), 3),
      ratio: formatSummary(
        summarise(pairedRatios(perMessage('core'), perMessage(consumerSingle.name))),
        2,
        '×',
      ),
      target: `core ≤ ${targets.requestsPerMessage}`,
      pass: coreRequests.median <= targets.requestsPerMessage,
    },
    {
      scenario: '   (info) no-op throughput, msg/s (core vs handleMessage)',
      core: formatSummary(summarise(throughput('core'))),
      baseline: formatSummary(summarise(throughput(consumerSingle.name))),
      ratio: formatSummary(
        summarise(pairedRatios(throughput('core'), throughput(consumerSingle.name))),
        2,
        '×',
      ),
      target: '-',
      pass: undefined,
    },
  ];
}

/**
 * Scenarios 2 and 3: each message awaits a 50 ms timer (an I/O-bound job). The core with 64
 * slots against sqs-consumer's `handleMessageBatch`, which holds at most 10 at a time.
 */
export async function ioScenario(settings: BenchSettings): Promise<ReportRow[]> {
  const results = await runSideBySide({
    label: 'io',
    endpoint: settings.endpoints.sqs,
    sides: [core, consumerBatch],
    messages: settings.ioMessages,
    warmupMessages: Math.min(300, settings.ioMessages),
    rounds: settings.rounds,
    work: () => sleep(IO_MS),
    onDrain: (side, round, r) => settings.log(describeDrain('io', side, round, r)),
  });
  const throughput = (side: string) => field(results, side, (r) => r.throughput);
  const perMessage = (side: string) => field(results, side, (r) => r.requestsPerMessage);
  const ratio = summarise(pairedRatios(throughput('core'), throughput(consumerBatch.name)));
  const coreRequests = summarise(perMessage('core'));
  return [
    {
      scenario: `2. ${IO_MS} ms I/O throughput, msg/s (core c=${CORE_CONCURRENCY} vs handleMessageBatch)`,
      core: formatSummary(summarise(throughput('core'))),
      baseline: formatSummary(summarise(throughput(consumerBatch.name))),
      ratio: formatSummary(ratio, 2, '×'),
      target: `≥ ${targets.ioThroughputRatio.toFixed(1)}×`,
      pass: ratio.median >= targets.ioThroughputRatio,
    },
    {
      scenario: `3. SQS requests/msg, ${IO_MS} ms I/O (vs handleMessageBatch)`,
      core: formatSummary(coreRequests, 3),
      baseline: formatSummary(summarise(perMessage(consumerBatch.name)), 3),
      ratio: formatSummary(
        summarise(pairedRatios(perMessage('core'), perMessage(consumerBatch.name))),
        2,
        '×',
      ),
      target: `core ≤ ${targets.requestsPerMessage}`,
      pass: coreRequests.median <= targets.requestsPerMessage,
    },
  ];
}

/** Scenario 4: idle worker RSS against a bare process loading the same AWS SDK clients. */
export async function idleScenario(settings: BenchSettings): Promise<ReportRow[]> {
  const mb = (bytes: number) => bytes / 1024 / 1024;
  const rounds = await measureIdleRss(settings.endpoints, settings.rounds, (r, i) =>
    settings.log(
      `[idle r${i + 1}] worker ${mb(r.worker.rssPeak).toFixed(1)} MiB (heap ${mb(r.worker.heapUsed).toFixed(1)}), ` +
        `bare ${mb(r.bare.rssPeak).toFixed(1)} MiB (heap ${mb(r.bare.heapUsed).toFixed(1)}), ` +
        `ratio ${(r.worker.rssPeak / r.bare.rssPeak).toFixed(3)}`,
    ),
  );
  const ratio = summarise(rounds.map((r) => r.worker.rssPeak / r.bare.rssPeak));
  return [
    {
      scenario: '4. idle RSS, MiB (Runner long-polling vs bare SDK process)',
      core: formatSummary(summarise(rounds.map((r) => mb(r.worker.rssPeak))), 1),
      baseline: formatSummary(summarise(rounds.map((r) => mb(r.bare.rssPeak))), 1),
      ratio: formatSummary(ratio, 3, '×'),
      target: `≤ ${targets.idleRssRatio}×`,
      pass: ratio.median <= targets.idleRssRatio,
    },
  ];
}
