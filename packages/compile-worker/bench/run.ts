// `pnpm bench` for the compile farm: the request API on the embedded default against the floors
// it is built on, and a build's orchestration against a plain `docker run`, measured side by
// side in one run. Prints one verdict table; exits 1 when a
// target is missed, 2 when the bench itself broke. See bench/README.md.
import { logToStderr, positiveIntFromEnv, runBenchMain } from '@spotjobs/core/bench';
import type { BenchSettings } from './bench-settings.ts';
import { cacheHitScenario } from './cache-hit.ts';
import { firstRequestsScenario } from './first-requests.ts';

await runBenchMain<BenchSettings>({
  title: '@spotjobs/compile-worker',
  scenarios: {
    'cache-hit': cacheHitScenario,
    'first-requests': firstRequestsScenario,
    // Loaded only when selected: it pulls Docker and the executor's test support.
    build: async (settings) => (await import('./build-overhead.ts')).buildOverheadScenario(settings),
  },
  // Not SPOTJOBS_BENCH_ONLY: the root `pnpm bench` runs every package's bench with one
  // environment, and the core's bench refuses scenario names it does not know.
  selectEnv: 'SPOTJOBS_BENCH_COMPILE_ONLY',
  settings: () => ({
    rounds: positiveIntFromEnv('SPOTJOBS_BENCH_ROUNDS', 5),
    cacheHitRequests: positiveIntFromEnv('SPOTJOBS_BENCH_CACHE_HIT_REQUESTS', 20_000),
    cacheHitConcurrency: positiveIntFromEnv('SPOTJOBS_BENCH_CACHE_HIT_CONCURRENCY', 200),
    firstRequests: positiveIntFromEnv('SPOTJOBS_BENCH_FIRST_REQUESTS', 100),
    log: logToStderr,
  }),
  describe: (settings) => `${settings.rounds} rounds, medians [min–max], ratio = median of per-round ratios`,
});
