// `pnpm bench` for the compile farm: the request API on the embedded default against the floors
// it is built on, and a build's orchestration against a plain `docker run`, measured side by
// side in one run. Prints one verdict table; exits 1 when a
// target is missed, 2 when the bench itself broke. See bench/README.md.
import { positiveIntFromEnv, type ReportRow, renderTable } from '@spotjobs/core/bench';
import type { BenchSettings } from './bench-settings.ts';
import { buildOverheadScenario } from './build-overhead.ts';
import { cacheHitScenario } from './cache-hit.ts';
import { firstRequestsScenario } from './first-requests.ts';

const scenarios = {
  'cache-hit': cacheHitScenario,
  'first-requests': firstRequestsScenario,
  build: buildOverheadScenario,
} as const;
type ScenarioName = keyof typeof scenarios;

// Not SPOTJOBS_BENCH_ONLY: the root `pnpm bench` runs every package's bench with one
// environment, and the core's bench refuses scenario names it does not know.
const only = (process.env.SPOTJOBS_BENCH_COMPILE_ONLY ?? Object.keys(scenarios).join(','))
  .split(',')
  .map((s) => s.trim());
const unknown = only.filter((name) => !(name in scenarios));
if (unknown.length > 0)
  throw new Error(`SPOTJOBS_BENCH_COMPILE_ONLY: unknown scenario(s) ${unknown.join(', ')}`);

const started = performance.now();
const settings: BenchSettings = {
  rounds: positiveIntFromEnv('SPOTJOBS_BENCH_ROUNDS', 5),
  cacheHitRequests: positiveIntFromEnv('SPOTJOBS_BENCH_CACHE_HIT_REQUESTS', 20_000),
  cacheHitConcurrency: positiveIntFromEnv('SPOTJOBS_BENCH_CACHE_HIT_CONCURRENCY', 200),
  firstRequests: positiveIntFromEnv('SPOTJOBS_BENCH_FIRST_REQUESTS', 100),
  log: (line) => process.stderr.write(`${line}\n`),
};
const rows: ReportRow[] = [];
let broken: unknown;
try {
  for (const name of only as ScenarioName[]) rows.push(...(await scenarios[name](settings)));
} catch (error) {
  broken = error;
}

const seconds = ((performance.now() - started) / 1000).toFixed(0);
process.stdout.write(
  `\n@spotjobs/compile-worker bench: ${settings.rounds} rounds, medians [min–max], ratio = median of per-round ratios, ` +
    `${seconds} s, Node ${process.version}\n\n${renderTable(rows)}\n\n`,
);
if (broken !== undefined) {
  console.error('bench broke:', broken);
  process.exit(2);
}
process.exit(rows.every((row) => row.pass !== false) ? 0 : 1);
