// `pnpm bench`: the core against sqs-consumer and a bare SDK process, side by side on one set
// of emulators. Prints one verdict table; exits 1 when a target is missed, 2 when the bench
// itself broke. See bench/README.md for what each scenario measures.

import { positiveIntFromEnv } from '../src/testing/bench-env.ts';
import { type ReportRow, renderTable } from '../src/testing/bench-report.ts';
import { startEmulators } from '../src/testing/emulators.ts';
import { noticeScenario } from './interruption-notice.ts';
import { overheadScenario } from './interruption-overhead.ts';
import { type BenchSettings, idleScenario, ioScenario, noopScenario } from './scenarios.ts';

const scenarios = {
  noop: noopScenario,
  io: ioScenario,
  idle: idleScenario,
  notice: noticeScenario,
  overhead: overheadScenario,
} as const;
type ScenarioName = keyof typeof scenarios;

const only = (process.env.SPOTJOBS_BENCH_ONLY ?? 'noop,io,idle,notice,overhead')
  .split(',')
  .map((s) => s.trim());
const unknown = only.filter((name) => !(name in scenarios));
if (unknown.length > 0) throw new Error(`SPOTJOBS_BENCH_ONLY: unknown scenario(s) ${unknown.join(', ')}`);

const started = performance.now();
const emulators = await startEmulators();
const settings: BenchSettings = {
  endpoints: emulators.endpoints,
  rounds: positiveIntFromEnv('SPOTJOBS_BENCH_ROUNDS', 5),
  noopMessages: positiveIntFromEnv('SPOTJOBS_BENCH_NOOP_MESSAGES', 5_000),
  ioMessages: positiveIntFromEnv('SPOTJOBS_BENCH_IO_MESSAGES', 1_500),
  noticeRuns: positiveIntFromEnv('SPOTJOBS_BENCH_NOTICE_RUNS', 20),
  overheadRounds: positiveIntFromEnv('SPOTJOBS_BENCH_OVERHEAD_ROUNDS', 12),
  overheadMessages: positiveIntFromEnv('SPOTJOBS_BENCH_OVERHEAD_MESSAGES', 10_000),
  log: (line) => process.stderr.write(`${line}\n`),
};
const rows: ReportRow[] = [];
let broken: unknown;
try {
  for (const name of only as ScenarioName[]) rows.push(...(await scenarios[name](settings)));
} catch (error) {
  broken = error;
} finally {
  await emulators.stop();
}

const seconds = ((performance.now() - started) / 1000).toFixed(0);
process.stdout.write(
  `\n@spotjobs/core bench: ${settings.rounds} rounds, medians [min–max], ratio = median of per-round ratios, ` +
    `${seconds} s, Node ${process.version}\n\n${renderTable(rows)}\n\n`,
);
if (broken !== undefined) {
  console.error('bench broke:', broken);
  process.exit(2);
}
process.exit(rows.every((row) => row.pass !== false) ? 0 : 1);
