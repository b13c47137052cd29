// `pnpm bench`: the core against sqs-consumer and a bare SDK process, side by side on one set
// of emulators. Prints one verdict table; exits 1 when a target is missed, 2 when the bench
// itself broke. See bench/README.md for what each scenario measures.

import { positiveIntFromEnv } from '../src/testing/bench-env.ts';
import { logToStderr, runBenchMain } from '../src/testing/bench-main.ts';
import { type RunningEmulators, startEmulators } from '../src/testing/emulators.ts';
import { noticeScenario } from './interruption-notice.ts';
import { overheadScenario } from './interruption-overhead.ts';
import { type BenchSettings, idleScenario, ioScenario, noopScenario } from './scenarios.ts';

let emulators: RunningEmulators | undefined;
await runBenchMain<BenchSettings>({
  title: '@spotjobs/core',
  scenarios: {
    noop: noopScenario,
    io: ioScenario,
    idle: idleScenario,
    notice: noticeScenario,
    overhead: overheadScenario,
  },
  selectEnv: 'SPOTJOBS_BENCH_ONLY',
  settings: async () => {
    const knobs = {
      rounds: positiveIntFromEnv('SPOTJOBS_BENCH_ROUNDS', 5),
      noopMessages: positiveIntFromEnv('SPOTJOBS_BENCH_NOOP_MESSAGES', 5_000),
      ioMessages: positiveIntFromEnv('SPOTJOBS_BENCH_IO_MESSAGES', 1_500),
      noticeRuns: positiveIntFromEnv('SPOTJOBS_BENCH_NOTICE_RUNS', 20),
      overheadRounds: positiveIntFromEnv('SPOTJOBS_BENCH_OVERHEAD_ROUNDS', 12),
      overheadMessages: positiveIntFromEnv('SPOTJOBS_BENCH_OVERHEAD_MESSAGES', 10_000),
      log: logToStderr,
    };
    emulators = await startEmulators();
    return { ...knobs, endpoints: emulators.endpoints };
  },
  tearDown: async () => emulators?.stop(),
  describe: (settings) => `${settings.rounds} rounds, medians [min–max], ratio = median of per-round ratios`,
});
