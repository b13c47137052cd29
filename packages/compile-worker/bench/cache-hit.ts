// Scenario 1: cache hits through the HTTP API on the embedded default. A build is ready; clients
// keep 200 requests for it in flight, through the compat endpoint and the clean API, side by
// side with a bare `Table.get` loop on the same table and key (the floor of any cache hit) and a
// bare node:http server answering the same bytes (the floor of any HTTP answer).
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Table, TableKey } from '@spotjobs/core';
import { formatSummary, percentile, type ReportRow, type Summary, summarise } from '@spotjobs/core/bench';
import { parseQuery } from '../src/api/api-request.ts';
import type { CompileApi } from '../src/api/compile-api.ts';
import { buildClaimKey } from '../src/build/build-message.ts';
import { stateKey } from '../src/build/build-repository.ts';
import { toBuildSpec } from '../src/build/build-spec.ts';
import { pacloudClientQuery } from '../test/support/python-client.ts';
import { BENCH_API_KEY, type BenchServer, startBenchServer } from './bench-server.ts';
import { type BenchSettings, targets } from './bench-settings.ts';
import { runClosedLoops } from './closed-loops.ts';
import { HttpLoadClient, type LoadReport, type LoadRequest } from './http-load.ts';
import { buildAsStandIn } from './stand-in-build.ts';

const PACKAGE = { category: 'app-misc', name: 'ranger', version: '1.8.1' } as const;
/** The original client's default USE; `~amd64` is a keyword, which the compat endpoint drops. */
const COMPAT_USE = '~amd64 imlib ncurses jpeg gpm';
const CLEAN_USE = ['imlib', 'ncurses', 'jpeg', 'gpm'];
/** A measurement still running after this is a broken bench, not a slow one. */
const RUN_TIMEOUT_MS = 180_000;
/** How every compat answer for a ready build starts. */
const SUCCESS = '{"status":"SUCCESS","linkS3":"http';

/** One side's figures in one round. */
interface Measurement {
  /** Answers (or `Table.get`s) per second. */
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The server's (this thread's) event-loop utilisation over the run, 0–1. */
  readonly serverLoop: number;
  /** CPU time of the server's (this) thread per request, µs: what an answer costs, whatever else runs. */
  readonly serverCpuUs: number;
  /** The load generator's event-loop utilisation, 0–1; undefined in process. */
  readonly clientLoop: number | undefined;
  /** CPU time of the load generator's thread per request, µs; undefined in process. */
  readonly clientCpuUs: number | undefined;
}

interface Side {
  /** Key in the results and in the progress lines. */
  readonly name: string;
  measure(total: number): Promise<Measurement>;
}

/**
 * The build every request of this scenario asks for: admitted as a client would (authenticated
 * compat request), then built by the stand-in worker (claim, start, artifact, complete), so the
 * record is `ready` with an artifact in the build BlobStore.
 */
async function readyBuild(bench: BenchServer, signal: AbortSignal): Promise<string> {
  const { builds, blobs } = bench.server;
  const admission = await builds.admit(
    toBuildSpec(PACKAGE, CLEAN_USE),
    { mayEnqueue: true, requestedBy: 'bench' },
    signal,
  );
  if (admission.outcome === 'unknown') throw new Error('an authenticated admission answered unknown');
  const ref = { buildId: admission.id, generation: admission.build.generation };
  const claim = await builds.claims.claim(buildClaimKey(ref), 'bench-worker', { ttlMs: 60_000 }, signal);
  if (!claim) throw new Error(`build ${admission.id}: claim refused`);
  const outcome = await buildAsStandIn(
    builds,
    blobs,
    ref,
    PACKAGE,
    { workerId: 'bench-worker', claimToken: claim.token },
    signal,
  );
  if (outcome !== 'started') throw new Error(`build ${admission.id}: start answered ${outcome}`);
  await builds.claims.complete(claim, undefined, signal);
  return admission.id;
}

function fromReport(report: LoadReport, server: { loop: number; cpuUs: number }): Measurement {
  if (report.unexpected > 0)
    throw new Error(`${report.unexpected} unexpected answers, the first: ${report.firstUnexpected}`);
  return {
    throughput: report.throughput,
    p50Ms: percentile(report.latenciesMs, 0.5),
    p99Ms: percentile(report.latenciesMs, 0.99),
    serverLoop: server.loop,
    serverCpuUs: server.cpuUs,
    clientLoop: report.clientLoopUtilisation,
    clientCpuUs: report.clientCpuUsPerRequest,
  };
}

/** A side measured over HTTP by the load generator, with the server on this thread. */
function httpSide(
  name: string,
  client: HttpLoadClient,
  origin: string,
  request: LoadRequest,
  expect: { status: number; bodyStart: string },
  concurrency: number,
): Side {
  return {
    name,
    async measure(total) {
      const loop = performance.eventLoopUtilization();
      const cpu = process.threadCpuUsage();
      const report = await client.run({
        origin,
        requests: [request],
        connect: request,
        total,
        concurrency,
        expect,
        timeoutMs: RUN_TIMEOUT_MS,
      });
      const used = process.threadCpuUsage(cpu);
      return fromReport(report, {
        loop: performance.eventLoopUtilization(loop).utilization,
        cpuUs: (used.user + used.system) / total,
      });
    },
  };
}

/**
 * `concurrency` loops awaiting `measureOne()` back to back in this thread, each call timed like
 * an HTTP request.
 */
async function inProcessLoops(
  total: number,
  concurrency: number,
  measureOne: (signal: AbortSignal) => Promise<void>,
): Promise<Measurement> {
  const signal = AbortSignal.timeout(RUN_TIMEOUT_MS);
  const run = await runClosedLoops(total, concurrency, () => measureOne(signal));
  return {
    throughput: run.throughput,
    p50Ms: percentile(run.latenciesMs, 0.5),
    p99Ms: percentile(run.latenciesMs, 0.99),
    serverLoop: run.loopUtilisation,
    serverCpuUs: run.cpuUsPerCall,
    clientLoop: undefined,
    clientCpuUs: undefined,
  };
}

/**
 * The in-process floor: `concurrency` loops awaiting `table.get(key)`. `LocalTable.get` is a
 * synchronous SQLite read behind a promise, so its latency under 200 loops is mostly the wait
 * for the other 199 (Little's law).
 */
function tableGetSide(table: Table, key: TableKey, concurrency: number): Side {
  return {
    name: 'Table.get',
    measure: (total) =>
      inProcessLoops(total, concurrency, async (signal) => {
        if (!(await table.get(key, signal))) throw new Error(`Table.get(${key.pk}) found nothing`);
      }),
  };
}

/**
 * The API without HTTP: `CompileApi.handle` called in process with the request the compat
 * client sends, parsed as the server parses it. The gap to the HTTP side is the transport's.
 */
function compatHandleSide(api: CompileApi, path: string, concurrency: number): Side {
  const queryAt = path.indexOf('?');
  return {
    name: 'compat handle()',
    measure: (total) =>
      inProcessLoops(total, concurrency, async (signal) => {
        const response = await api.handle({
          method: 'GET',
          path: path.slice(0, queryAt),
          query: parseQuery(path.slice(queryAt + 1)),
          headers: {},
          body: undefined,
          signal,
        });
        if (response.status !== 200 || !response.body.startsWith(SUCCESS))
          throw new Error(`CompileApi.handle answered ${response.status} ${response.body}`);
      }),
  };
}

/** A node:http server on this thread answering every request with `body`, as the compile server would. */
async function startHttpFloor(body: string): Promise<{ origin: string; close(): Promise<void> }> {
  const headers = {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(body)),
  };
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, headers);
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

const fmtMs = (summary: Summary) => formatSummary(summary, summary.median < 10 ? 2 : 1, ' ms');
const fmtRate = (summary: Summary, unit: string) => formatSummary(summary, 0, unit);
const fmtRatio = (summary: Summary) => {
  const digits = summary.median >= 100 ? 0 : summary.median >= 1 ? 1 : 3;
  return formatSummary(summary, digits, '×');
};

function describe(side: string, round: number, m: Measurement): string {
  const client =
    m.clientLoop === undefined
      ? ''
      : `; client loop ${(m.clientLoop * 100).toFixed(0)} %, ${m.clientCpuUs?.toFixed(0)} µs CPU/req`;
  return (
    `[cache-hit r${round + 1}] ${side.padEnd(17)} ${m.throughput.toFixed(0).padStart(6)}/s, ` +
    `p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms; server loop ${(m.serverLoop * 100).toFixed(0)} %, ` +
    `${m.serverCpuUs.toFixed(0)} µs CPU/req${client}`
  );
}

/**
 * Scenario 1: cache-hit throughput and latency through the HTTP API (target ≥ 2 000 req/s with
 * 200 in flight), against a bare `Table.get` loop measured in the same round.
 */
export async function cacheHitScenario(settings: BenchSettings): Promise<ReportRow[]> {
  const concurrency = settings.cacheHitConcurrency;
  const signal = AbortSignal.timeout(RUN_TIMEOUT_MS);
  const bench = await startBenchServer();
  const client = await HttpLoadClient.start();
  let floor: Awaited<ReturnType<typeof startHttpFloor>> | undefined;
  try {
    const id = await readyBuild(bench, signal);
    const origin = bench.server.url;
    const stage = bench.config.api.stage;
    const compatPath = `/${stage}/package?${pacloudClientQuery(`${PACKAGE.category}/${PACKAGE.name}`, PACKAGE.version, COMPAT_USE)}`;
    const compatBody = await (await fetch(`${origin}${compatPath}`, { signal })).text();
    if (!compatBody.startsWith(SUCCESS))
      throw new Error(`the compat request does not hit the ready build: ${compatBody}`);
    floor = await startHttpFloor(compatBody);
    const ready = { status: 200, bodyStart: `{"id":"${id}","state":"ready"` };
    const sides: Side[] = [
      httpSide(
        'compat GET',
        client,
        origin,
        { method: 'GET', path: compatPath },
        { status: 200, bodyStart: SUCCESS },
        concurrency,
      ),
      httpSide(
        'clean GET status',
        client,
        origin,
        { method: 'GET', path: `/v1/builds/${id}` },
        ready,
        concurrency,
      ),
      httpSide(
        'clean POST submit',
        client,
        origin,
        {
          method: 'POST',
          path: '/v1/builds',
          headers: { 'x-api-key': BENCH_API_KEY },
          body: JSON.stringify({
            package: `${PACKAGE.category}/${PACKAGE.name}`,
            version: PACKAGE.version,
            use: CLEAN_USE,
          }),
        },
        ready,
        concurrency,
      ),
      httpSide(
        'node:http floor',
        client,
        floor.origin,
        { method: 'GET', path: compatPath },
        { status: 200, bodyStart: compatBody },
        concurrency,
      ),
      tableGetSide(bench.store.table(bench.config.local.tableName), stateKey(id), concurrency),
      compatHandleSide(bench.server.api, compatPath, concurrency),
    ];

    const results = new Map<string, Measurement[]>(sides.map((side) => [side.name, []]));
    // Round -1 warms up (JIT, 200 connections per server) and is not recorded; the order of the
    // sides rotates, so none always runs first or right after another's garbage.
    for (let round = -1; round < settings.rounds; round++) {
      const shift = round < 0 ? 0 : round % sides.length;
      for (const side of [...sides.slice(shift), ...sides.slice(0, shift)]) {
        const measured = await side.measure(
          round < 0 ? Math.ceil(settings.cacheHitRequests / 4) : settings.cacheHitRequests,
        );
        if (round < 0) continue;
        results.get(side.name)?.push(measured);
        settings.log(describe(side.name, round, measured));
      }
    }
    return report(results, settings);
  } finally {
    await client.close();
    await floor?.close();
    await bench.close();
  }
}

function report(results: Map<string, Measurement[]>, settings: BenchSettings): ReportRow[] {
  const of = (side: string) => results.get(side) ?? [];
  const pick = (side: string, f: (m: Measurement) => number) => of(side).map(f);
  const ratios = (a: string, b: string, f: (m: Measurement) => number) => {
    const bs = pick(b, f);
    return summarise(pick(a, f).map((value, i) => value / (bs[i] ?? Number.NaN)));
  };
  const c = settings.cacheHitConcurrency;
  const table = 'Table.get';
  const rows: ReportRow[] = [];
  const apis = [
    ['compat GET', `1. cache hit, compat GET /LATEST/package (${c} in flight)`],
    ['clean GET status', `1. cache hit, clean GET /v1/builds/<id> (${c} in flight)`],
    ['clean POST submit', `1. cache hit, clean POST /v1/builds, API key (${c} in flight)`],
  ] as const;
  for (const [side, title] of apis) {
    const throughput = summarise(pick(side, (m) => m.throughput));
    rows.push(
      {
        scenario: `${title}, req/s vs Table.get/s`,
        core: fmtRate(throughput, '/s'),
        baseline: fmtRate(summarise(pick(table, (m) => m.throughput)), '/s'),
        ratio: fmtRatio(ratios(side, table, (m) => m.throughput)),
        target: `≥ ${targets.cacheHitThroughput} req/s`,
        pass: throughput.median >= targets.cacheHitThroughput,
      },
      {
        scenario: '   (info) latency p50, HTTP vs Table.get',
        core: fmtMs(summarise(pick(side, (m) => m.p50Ms))),
        baseline: fmtMs(summarise(pick(table, (m) => m.p50Ms))),
        ratio: fmtRatio(ratios(side, table, (m) => m.p50Ms)),
        target: '-',
        pass: undefined,
      },
      {
        scenario: '   (info) latency p99, HTTP vs Table.get',
        core: fmtMs(summarise(pick(side, (m) => m.p99Ms))),
        baseline: fmtMs(summarise(pick(table, (m) => m.p99Ms))),
        ratio: fmtRatio(ratios(side, table, (m) => m.p99Ms)),
        target: '-',
        pass: undefined,
      },
    );
  }
  const floor = 'node:http floor';
  rows.push(
    {
      scenario: '   (info) compat GET vs a bare node:http server sending the same bytes, req/s',
      core: fmtRate(summarise(pick('compat GET', (m) => m.throughput)), '/s'),
      baseline: fmtRate(summarise(pick(floor, (m) => m.throughput)), '/s'),
      ratio: fmtRatio(ratios('compat GET', floor, (m) => m.throughput)),
      target: '-',
      pass: undefined,
    },
    {
      scenario: '   (info) same, latency p50 / p99',
      core: `${fmtMs(summarise(pick('compat GET', (m) => m.p50Ms)))} / ${fmtMs(summarise(pick('compat GET', (m) => m.p99Ms)))}`,
      baseline: `${fmtMs(summarise(pick(floor, (m) => m.p50Ms)))} / ${fmtMs(summarise(pick(floor, (m) => m.p99Ms)))}`,
      ratio: '-',
      target: '-',
      pass: undefined,
    },
    {
      scenario: '   (info) compat GET vs CompileApi.handle alone (in process, no HTTP), /s',
      core: fmtRate(summarise(pick('compat GET', (m) => m.throughput)), '/s'),
      baseline: fmtRate(summarise(pick('compat handle()', (m) => m.throughput)), '/s'),
      ratio: fmtRatio(ratios('compat GET', 'compat handle()', (m) => m.throughput)),
      target: '-',
      pass: undefined,
    },
    {
      scenario: '   (info) server-thread CPU per request: compat GET / status / submit vs floors',
      core: ['compat GET', 'clean GET status', 'clean POST submit']
        .map((side) => cpu(pick(side, (m) => m.serverCpuUs)))
        .join(' / '),
      baseline: `node:http ${cpu(pick(floor, (m) => m.serverCpuUs))}, compat handle() ${cpu(pick('compat handle()', (m) => m.serverCpuUs))}, Table.get ${cpu(pick(table, (m) => m.serverCpuUs))}`,
      ratio: '-',
      target: '-',
      pass: undefined,
    },
    {
      scenario:
        '   (info) event loop busy, server / load generator; generator CPU per request (compat GET; floor)',
      core: `${pct(pick('compat GET', (m) => m.serverLoop))} / ${pct(pick('compat GET', (m) => m.clientLoop ?? 0))}; ${cpu(pick('compat GET', (m) => m.clientCpuUs ?? 0))}`,
      baseline: `${pct(pick(floor, (m) => m.serverLoop))} / ${pct(pick(floor, (m) => m.clientLoop ?? 0))}; ${cpu(pick(floor, (m) => m.clientCpuUs ?? 0))}`,
      ratio: '-',
      target: '-',
      pass: undefined,
    },
  );
  return rows;
}

function cpu(values: readonly number[]): string {
  return `${summarise(values).median.toFixed(0)} µs`;
}

function pct(values: readonly number[]): string {
  return `${(summarise(values).median * 100).toFixed(0)} %`;
}
