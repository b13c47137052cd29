// What the compile-worker bench measures, how big and how often: read once from the
// environment by run.ts (the SPOTJOBS_BENCH_* pattern of the core's bench) and handed to every
// scenario.

import type { BenchSettings as SharedBenchSettings } from '@spotjobs/core/bench';

/**
 * How big and how often; `run.ts` reads them from the environment (`rounds` from
 * `SPOTJOBS_BENCH_ROUNDS`, shared with the core's bench).
 */
export interface BenchSettings extends SharedBenchSettings {
  /** Measured requests per side and round in the cache-hit scenario. */
  readonly cacheHitRequests: number;
  /** Requests in flight at once in the cache-hit scenario (the 200). */
  readonly cacheHitConcurrency: number;
  /** Concurrent identical first requests per round (the 100). */
  readonly firstRequests: number;
}

/** The targets of the issue, in one place. */
export const targets = {
  /** Cache hits answered per second through the HTTP API, embedded default, 200 in flight. */
  cacheHitThroughput: 2_000,
  /** Queue messages and builds that concurrent identical first requests may cause. */
  firstRequestMessages: 1,
  firstRequestBuilds: 1,
} as const;
