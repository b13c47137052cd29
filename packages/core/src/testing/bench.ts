// `@spotjobs/core/bench`: what every package's `pnpm bench` shares (the entry that runs the
// scenarios and exits the house way, the verdict table, round statistics, knobs from the
// environment). Apart from `@spotjobs/core/testing`, whose index loads vitest and so only works
// inside a test run.

export { positiveIntFromEnv } from './bench-env.ts';
export {
  type BenchMainOptions,
  type BenchOutcome,
  type BenchScenario,
  type BenchSettings,
  logToStderr,
  runBench,
  runBenchMain,
  selectScenarios,
} from './bench-main.ts';
export { formatSummary, type ReportRow, renderTable } from './bench-report.ts';
export { percentile, type Summary, summarise } from './bench-stats.ts';
