import { randomUUID } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type LocalStore, openLocalStore } from '../src/adapters/local/index.ts';
import { ImdsInterruptionSource, ResumeDetector } from '../src/interruption/index.ts';
import type { InterruptionSource } from '../src/ports/interruption-source.ts';
import { Runner } from '../src/runner/runner.ts';
import { formatSummary, type ReportRow } from '../src/testing/bench-report.ts';
import { percentile, summarise } from '../src/testing/bench-stats.ts';
import { benchJobSchema } from './bench-job.ts';
import { type RemoteImds, startRemoteImds } from './interruption-imds-remote.ts';
import { type BenchSettings, targets } from './scenarios.ts';

const CONCURRENCY = 64;
const HANDLER_MS = 5;
const POLL_INTERVAL_MS = 1_000;
const SEND_CHUNK = 1_000;
/** A drain that has not finished by then is reported as broken. */
const DRAIN_TIMEOUT_MS = 180_000;

/** Monitoring on, off, and off again (the A/A control). */
type Side = 'on' | 'off' | 'control';
const labels: Record<Side, string> = { on: 'on       ', off: 'off      ', control: 'off (A/A)' };

interface OverheadDrain {
  readonly throughput: number;
  readonly elapsedMs: number;
  /** This process's CPU over the drain, % of one core. */
  readonly cpuPct: number;
  /** This process's CPU time per message, µs: the drain is CPU-bound, so this sets its throughput. */
  readonly cpuUsPerMessage: number;
  /** IMDS requests the stand-in answered during the drain (0 with monitoring off). */
  readonly imdsRequests: number;
}

/**
 * A full GC before each drain, so no drain pays for the garbage of the one before it (without
 * it, drains of the same work differed by ±10 %). `--expose-gc` is set at run time, as the
 * bench runs without Node flags.
 */
const collectGarbage: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/**
 * One drain of `messages` pre-filled messages on a fresh `LocalQueue`: a `Runner` with 64
 * slots, each job awaiting a 5 ms timer. With monitoring `on` it also watches an
 * `ImdsInterruptionSource` (polling the stand-in every second) and a `ResumeDetector`
 * (checking the clocks and the hibernation marker every second). Timed from `run()` to the
 * last `job:succeeded` (which follows the ack).
 */
async function drain(
  store: LocalStore,
  imds: RemoteImds,
  side: Side,
  messages: number,
): Promise<OverheadDrain> {
  const queue = store.queue(`overhead-${side}-${randomUUID().slice(0, 8)}`);
  for (let sent = 0; sent < messages; sent += SEND_CHUNK) {
    const count = Math.min(SEND_CHUNK, messages - sent);
    await queue.send(Array.from({ length: count }, (_, i) => ({ body: JSON.stringify({ n: sent + i }) })));
  }
  const runner = await Runner.create({
    queue,
    concurrency: CONCURRENCY,
    pollWaitSeconds: 1,
    ...(side === 'on' ? { interruptions: { sources: monitoringSources(imds) } } : {}),
    job: { schema: benchJobSchema, handle: () => sleep(HANDLER_MS) },
  });
  const done = Promise.withResolvers<void>();
  let succeeded = 0;
  runner.on('job:succeeded', () => {
    if (++succeeded === messages) done.resolve();
  });
  runner.on('job:dead-lettered', (job) => done.reject(new Error(`dead-lettered: ${job.reason}`)));
  const timer = setTimeout(() => done.reject(new Error(`drain stalled at ${succeeded}`)), DRAIN_TIMEOUT_MS);
  const requestsBefore = await imds.requests();
  collectGarbage();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const running = runner.run();
  try {
    await done.promise;
    const elapsedMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return {
      throughput: (messages / elapsedMs) * 1000,
      elapsedMs,
      cpuPct: ((used.user + used.system) / 1000 / elapsedMs) * 100,
      cpuUsPerMessage: (used.user + used.system) / messages,
      imdsRequests: (await imds.requests()) - requestsBefore,
    };
  } finally {
    clearTimeout(timer);
    await runner.stop({ graceMs: 0 });
    await running;
  }
}

/**
 * Where the bench's data dir goes: tmpfs when there is one. fsync is then free, so the drain
 * is bound by the runner's CPU (where a monitoring cost would show) rather than by the disk's
 * latency, whose jitter would drown a 2 % difference.
 */
async function scratchRoot(): Promise<string> {
  return access('/dev/shm').then(
    () => '/dev/shm',
    () => tmpdir(),
  );
}

/**
 * What the monitoring costs by itself, without a runner: CPU ms per second with the IMDS
 * source and the resume detector watching, minus the same with nothing watching. Windows of
 * `windowMs` alternate, idle first; the figure is the median over `windows` of each.
 */
async function monitoringCpu(imds: RemoteImds, windows: number, windowMs: number) {
  const cpuMsPerSecond = async (monitored: boolean) => {
    const stop = new AbortController();
    if (monitored) {
      for (const source of monitoringSources(imds)) {
        void source.watch({ notify: () => {}, onError: () => {}, signal: stop.signal });
      }
    }
    const cpu = process.cpuUsage();
    await sleep(windowMs);
    const used = process.cpuUsage(cpu);
    stop.abort();
    return (used.user + used.system) / windowMs; // µs per ms = ms per s
  };
  const idle: number[] = [];
  const monitored: number[] = [];
  for (let i = 0; i < windows; i++) {
    idle.push(await cpuMsPerSecond(false));
    monitored.push(await cpuMsPerSecond(true));
  }
  return { idle: summarise(idle), monitored: summarise(monitored) };
}

/** IMDS polled every second, and the resume detector (clocks and the hibernation marker) every second. */
function monitoringSources(imds: RemoteImds): InterruptionSource[] {
  return [
    new ImdsInterruptionSource({ endpoint: imds.url, pollIntervalMs: POLL_INTERVAL_MS }),
    new ResumeDetector({ intervalMs: POLL_INTERVAL_MS }),
  ];
}

/**
 * Scenario 6: what interruption monitoring (IMDS poll every second + resume detector) costs
 * in throughput, on a workload where 2 % is visible: 5 ms jobs at concurrency 64 on the local
 * queue, CPU-bound in the runner. Each round drains the same workload three times, in an
 * order that rotates from round to round: monitoring on, off, and off again (an A/A control:
 * how far two identical drains disagree, i.e. the bench's resolution on this machine now).
 * Ratios are medians of the per-round ratios.
 */
export async function overheadScenario(settings: BenchSettings): Promise<ReportRow[]> {
  const dataDir = await mkdtemp(join(await scratchRoot(), 'spotjobs-bench-overhead-'));
  const store = await openLocalStore({ dataDir });
  const imds = await startRemoteImds();
  const sides: readonly Side[] = ['on', 'off', 'control'];
  const results: Record<Side, OverheadDrain[]> = { on: [], off: [], control: [] };
  let alone: Awaited<ReturnType<typeof monitoringCpu>>;
  try {
    const warmup = Math.min(5_000, settings.overheadMessages);
    for (const side of sides) await drain(store, imds, side, warmup);
    for (let round = 0; round < settings.overheadRounds; round++) {
      const shift = round % sides.length;
      for (const side of [...sides.slice(shift), ...sides.slice(0, shift)]) {
        const r = await drain(store, imds, side, settings.overheadMessages);
        results[side].push(r);
        settings.log(
          `[overhead r${round + 1}] monitoring ${labels[side]} ${r.throughput.toFixed(0).padStart(5)} msg/s (${(r.elapsedMs / 1000).toFixed(2)} s), ` +
            `CPU ${r.cpuPct.toFixed(0)} % (${r.cpuUsPerMessage.toFixed(1)} µs/msg), IMDS requests ${r.imdsRequests}`,
        );
      }
    }
    alone = await monitoringCpu(imds, 3, 3_000);
  } finally {
    await imds.close();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  const throughput = (side: Side) => results[side].map((r) => r.throughput);
  const cpuPerMessage = (side: Side) => results[side].map((r) => r.cpuUsPerMessage);
  const perRound = (side: Side) =>
    throughput(side).map((value, i) => value / (throughput('off')[i] ?? Number.NaN));
  // The drain is CPU-bound (the runner's process sits near a full core), so its throughput is
  // 1 / CPU per message. Wall-clock msg/s also moves with whatever else the machine runs (the
  // A/A control shows by how much); CPU per message is what monitoring itself can change.
  const cpuRatios = cpuPerMessage('off').map((off, i) => off / (cpuPerMessage('on')[i] ?? Number.NaN));
  const controlCpu = summarise(
    cpuPerMessage('off').map((off, i) => off / (cpuPerMessage('control')[i] ?? Number.NaN)),
  );
  const ratios = perRound('on');
  const ratio = summarise(cpuRatios);
  const wallRatio = summarise(ratios);
  const control = summarise(perRound('control'));
  // A monitored drain in which the source never polled measured nothing: a failure too.
  const polled = results.on.every((r) => r.imdsRequests > 0);
  const costPct = (1 - ratio.median) * 100;
  return [
    {
      scenario: `6. monitoring cost: IMDS 1 s + resume detector, CPU µs/msg (on vs off, ${HANDLER_MS} ms jobs, c=${CONCURRENCY}, local)`,
      core: formatSummary(summarise(cpuPerMessage('on')), 1),
      baseline: formatSummary(summarise(cpuPerMessage('off')), 1),
      ratio: `${formatSummary(ratio, 3, '×')} throughput-equivalent (cost ${costPct.toFixed(1)} %)`,
      target: `≥ ${targets.monitoringThroughputRatio}× (cost ≤ 2 %)`,
      pass: polled && ratio.median >= targets.monitoringThroughputRatio,
    },
    {
      scenario: '   (info) A/A control on CPU µs/msg: off again vs off (the resolution)',
      core: formatSummary(summarise(cpuPerMessage('control')), 1),
      baseline: formatSummary(summarise(cpuPerMessage('off')), 1),
      ratio: formatSummary(controlCpu, 3, '×'),
      target: '-',
      pass: undefined,
    },
    {
      // Wall-clock msg/s also moves with other processes; its A/A control below shows by how much.
      scenario: '   (info) wall-clock msg/s, on vs off; middle half of per-round ratios',
      core: formatSummary(summarise(throughput('on'))),
      baseline: formatSummary(summarise(throughput('off'))),
      ratio: `${formatSummary(wallRatio, 3, '×')}; ${percentile(ratios, 0.25).toFixed(3)}–${percentile(ratios, 0.75).toFixed(3)}×`,
      target: '-',
      pass: undefined,
    },
    {
      scenario: '   (info) A/A control on msg/s: off again vs off',
      core: formatSummary(summarise(throughput('control'))),
      baseline: formatSummary(summarise(throughput('off'))),
      ratio: formatSummary(control, 3, '×'),
      target: '-',
      pass: undefined,
    },
    {
      // The direct measurement: what the sources cost with no runner around them.
      scenario: '   (info) monitoring alone, CPU ms per s (watching vs idle)',
      core: formatSummary(alone.monitored, 2),
      baseline: formatSummary(alone.idle, 2),
      ratio: `+${((alone.monitored.median - alone.idle.median) / 10).toFixed(2)} % of a core`,
      target: '-',
      pass: undefined,
    },
  ];
}
