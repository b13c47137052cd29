// Scenario 2: exactly-once admission under a thundering herd. Each round, 100 identical first
// requests for a build nobody asked for before arrive at once over open connections; the queue must then hold one
// message, and a worker consuming the queue must build once.
//
// Two herds per round. On one server, the herd cannot race: a node:http server on the embedded
// default runs each admission's synchronous SQLite calls to the end before it reads the next
// request, so only the first request ever tries the conditional create. The second herd is
// split between this process's server and a second API process on the same data dir, so two
// admissions really do race for the create; the scenario counts the creates this process lost.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConditionFailedError, type Queue, type QueueDepth, type Table } from '@spotjobs/core';
import { formatSummary, type ReportRow, summarise } from '@spotjobs/core/bench';
import { buildIdentity } from '../src/build/build-identity.ts';
import { toBuildSpec } from '../src/build/build-spec.ts';
import { createCompileDaemon } from '../src/daemon/compile-daemon.ts';
import { ProcessBuildExecutor } from '../src/executor/process-build-executor.ts';
import { pacloudClientQuery } from '../test/support/python-client.ts';
import { type ApiProcess, startApiProcess } from './api-process.ts';
import { BENCH_API_KEY, type BenchServer, startBenchServer } from './bench-server.ts';
import { type BenchSettings, targets } from './bench-settings.ts';
import { HttpLoadClient } from './http-load.ts';

const WAIT = '{"status":"WAIT"}';
const standinEmerge = fileURLToPath(new URL('../builder-image/standin/emerge', import.meta.url));
const USE = 'ssl -doc';
/** A round still unsettled after this is a broken bench. */
const ROUND_TIMEOUT_MS = 60_000;

type Herd = 'one server' | 'two processes';

/** What one herd found. */
interface HerdResult {
  /** Messages in the queue after the herd, before any worker ran (visible + in flight + delayed). */
  readonly messages: number;
  /** Attempts the worker started for the build (`start` answered `started`). */
  readonly builds: number;
  /** Deliveries the worker saw (handler runs, duplicates, deferrals). */
  readonly deliveries: number;
  /** Attempts the build record itself counts (`totalAttempts`), once ready. */
  readonly recordedAttempts: number;
  /** Conditional creates of the build record this process's server tried / lost. */
  readonly creates: number;
  readonly lostCreates: number;
  /** Requests still unanswered when the first answer arrived. */
  readonly inFlightAtFirstAnswer: number;
  /** From the first request sent to the last answer read. */
  readonly herdMs: number;
}

/** Counts the conditional creates (`ifAbsent` puts of build records) a server's table sees. */
class CreateCounter {
  creates = 0;
  lost = 0;

  wrap(table: Table): Table {
    const put: Table['put'] = async (key, data, condition, signal) => {
      const create = condition !== undefined && 'ifAbsent' in condition && key.pk.startsWith('build#');
      if (create) this.creates++;
      try {
        return await table.put(key, data, condition, signal);
      } catch (err) {
        if (create && err instanceof ConditionFailedError) this.lost++;
        throw err;
      }
    };
    return new Proxy(table, {
      get(target, prop) {
        if (prop === 'put') return put;
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }
}

function total(depth: QueueDepth): number {
  return depth.visible + depth.inFlight + depth.delayed;
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 10));

/**
 * Stand-in for the build daemon until `createCompileDaemon` exists: a core `Runner` on the
 * compile queue with the real job schema and claim (`buildMessageSchema`, `buildClaimKey` on
 * `builds.claims`), whose handler plays one attempt (`buildAsStandIn`). Runs until build `id`
 * is ready and the queue is empty, then stops; counts what it did.
 */
async function runWorker(
  bench: BenchServer,
  queue: Queue,
  id: string,
  signal: AbortSignal,
): Promise<{ builds: number; deliveries: number }> {
  const { builds, blobs } = bench.server;
  // The real build daemon, building with host processes and the Portage stand-in; every call of
  // the executor is a build.
  const workDir = await mkdtemp(join(tmpdir(), 'bench-first-requests-'));
  const executor = new ProcessBuildExecutor({
    workDir,
    emerge: standinEmerge,
    cacheDir: join(workDir, 'binpkgs'),
  });
  let started = 0;
  const build = executor.build.bind(executor);
  executor.build = (request) => {
    started++;
    return build(request);
  };
  let deliveries = 0;
  const runner = await createCompileDaemon({
    queue,
    builds,
    blobs,
    executor,
    workerId: 'bench-worker',
    concurrency: 4,
    buildTimeoutMs: ROUND_TIMEOUT_MS,
  });
  const failed = Promise.withResolvers<never>();
  runner.on('job:started', () => deliveries++);
  runner.on('job:duplicate', () => deliveries++);
  runner.on('job:deferred', () => deliveries++);
  runner.on('job:retried', (job) => failed.reject(new Error(`build job failed: ${job.error.message}`)));
  runner.on('job:dead-lettered', (job) => failed.reject(new Error(`build job dead-lettered: ${job.reason}`)));
  const running = runner.run();
  try {
    await Promise.race([
      failed.promise,
      (async () => {
        while ((await builds.get(id, signal))?.state !== 'ready') await pause();
        while (total(await queue.depth(signal)) > 0) await pause();
      })(),
    ]);
  } finally {
    await runner.stop({ graceMs: 0 });
    await running;
    await rm(workDir, { recursive: true, force: true });
  }
  return { builds: started, deliveries };
}

/** `requests` identical first requests, spread over `origins`, all sent at once; then the worker. */
async function herd(
  bench: BenchServer,
  counter: CreateCounter,
  client: HttpLoadClient,
  origins: readonly string[],
  requests: number,
): Promise<HerdResult> {
  const signal = AbortSignal.timeout(ROUND_TIMEOUT_MS);
  const queue = bench.store.queue(bench.config.local.queueName);
  // A package name nobody asked for: a fresh build identity every herd.
  const name = `herd${randomBytes(6).toString('hex')}`;
  const id = buildIdentity(
    toBuildSpec({ category: 'app-misc', name, version: '1.0' }, USE),
    bench.server.builds.profile,
  );
  const path = `/${bench.config.api.stage}/package?${pacloudClientQuery(`app-misc/${name}`, '1.0', USE)}`;
  counter.creates = 0;
  counter.lost = 0;
  // Consecutive requests go to alternate servers, so each server's first request leaves within
  // microseconds of the other's.
  const herdRun = await client.run({
    origin: origins[0] as string,
    requests: origins.map((origin) => ({
      origin,
      method: 'GET',
      path,
      headers: { 'x-api-key': BENCH_API_KEY },
    })),
    // Connections are opened with a read of a build that does not exist (404, writes nothing).
    connect: { method: 'GET', path: `/v1/builds/${'0'.repeat(64)}` },
    total: requests,
    concurrency: requests,
    expect: { status: 200, bodyStart: WAIT },
    timeoutMs: ROUND_TIMEOUT_MS,
  });
  if (herdRun.unexpected > 0)
    throw new Error(`${herdRun.unexpected} unexpected answers, the first: ${herdRun.firstUnexpected}`);
  const messages = total(await queue.depth(signal));
  const { creates, lost } = counter;
  const worker = await runWorker(bench, queue, id, signal);
  const record = await bench.server.builds.get(id, signal);
  return {
    messages,
    builds: worker.builds,
    deliveries: worker.deliveries,
    recordedAttempts: record?.totalAttempts ?? 0,
    creates,
    lostCreates: lost,
    inFlightAtFirstAnswer: herdRun.inFlightAtFirstAnswer,
    herdMs: herdRun.elapsedMs,
  };
}

/**
 * Scenario 2: `firstRequests` concurrent identical first requests (authenticated compat GETs
 * over connections opened beforehand), a fresh identity each time, on one server and split over
 * two API processes sharing the data dir. PASS iff every herd leaves exactly one queue message
 * and the worker builds exactly once.
 */
export async function firstRequestsScenario(settings: BenchSettings): Promise<ReportRow[]> {
  const counter = new CreateCounter();
  const bench = await startBenchServer({ wrapTable: (table) => counter.wrap(table) });
  let second: ApiProcess | undefined;
  let client: HttpLoadClient | undefined;
  const results = new Map<Herd, HerdResult[]>([
    ['one server', []],
    ['two processes', []],
  ]);
  try {
    second = await startApiProcess(bench.config.local.dataDir, AbortSignal.timeout(ROUND_TIMEOUT_MS));
    client = await HttpLoadClient.start();
    const origins: Record<Herd, readonly string[]> = {
      'one server': [bench.server.url],
      'two processes': [bench.server.url, second.origin],
    };
    // Round -1 warms the JIT (and the data dir); it is not recorded.
    for (let round = -1; round < settings.rounds; round++) {
      for (const kind of ['one server', 'two processes'] as const) {
        const result = await herd(bench, counter, client, origins[kind], settings.firstRequests);
        if (round < 0) continue;
        results.get(kind)?.push(result);
        settings.log(
          `[first-requests r${round + 1}] ${kind.padEnd(13)} ${settings.firstRequests} requests in ` +
            `${result.herdMs.toFixed(0).padStart(3)} ms (${result.inFlightAtFirstAnswer} in flight at the first answer), ` +
            `creates tried/lost here ${result.creates}/${result.lostCreates} → ${result.messages} message(s), ` +
            `${result.builds} build(s), ${result.deliveries} deliveries, record counts ${result.recordedAttempts} attempt(s)`,
        );
      }
    }
  } finally {
    await client?.close();
    await second?.stop();
    await bench.close();
  }
  return report(results, settings);
}

function report(results: Map<Herd, HerdResult[]>, settings: BenchSettings): ReportRow[] {
  const rows: ReportRow[] = [];
  for (const [kind, rounds] of results) {
    const list = (f: (r: HerdResult) => number) => rounds.map(f).join(', ');
    const where = kind === 'one server' ? 'one server' : 'split over 2 API processes, one data dir';
    rows.push(
      {
        scenario: `2. ${settings.firstRequests} concurrent identical first requests, ${where}: queue messages / builds`,
        core: `${list((r) => r.messages)} / ${list((r) => r.builds)}`,
        baseline: '-',
        ratio: '-',
        target: `${targets.firstRequestMessages} / ${targets.firstRequestBuilds} every round`,
        pass: rounds.every(
          (r) =>
            r.messages === targets.firstRequestMessages &&
            r.builds === targets.firstRequestBuilds &&
            r.recordedAttempts === targets.firstRequestBuilds,
        ),
      },
      {
        scenario: '   (info) creates tried / lost by this process; in flight at the first answer; herd time',
        core:
          `${list((r) => r.creates)} / ${list((r) => r.lostCreates)}; ` +
          `${formatSummary(summarise(rounds.map((r) => r.inFlightAtFirstAnswer)))}; ` +
          formatSummary(summarise(rounds.map((r) => r.herdMs)), 0, ' ms'),
        baseline: '-',
        ratio: '-',
        target: '-',
        pass: undefined,
      },
    );
  }
  return rows;
}
