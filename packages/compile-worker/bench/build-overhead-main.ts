// Runs the build-overhead scenario alone: `node bench/build-overhead-main.ts` (from
// packages/compile-worker). SPOTJOBS_BENCH_BUILD_ROUNDS sets the recorded builds per side
// (default 15). Prints the verdict rows; exits 1 when the target is missed, 2 when the bench broke.
import { buildOverheadScenario } from './build-overhead.ts';

const raw = process.env.SPOTJOBS_BENCH_BUILD_ROUNDS;
const rounds = raw === undefined ? 15 : Number(raw);
if (!Number.isInteger(rounds) || rounds < 1) {
  throw new Error(`SPOTJOBS_BENCH_BUILD_ROUNDS must be a whole number >= 1, got ${raw}`);
}

try {
  const rows = await buildOverheadScenario({ rounds, log: (line) => process.stderr.write(`${line}\n`) });
  for (const row of rows) {
    const verdict = row.pass === undefined ? '-' : row.pass ? 'PASS' : 'FAIL';
    process.stdout.write(
      `${row.scenario}\n  executor ${row.core} | baseline ${row.baseline} | ${row.ratio} | target ${row.target} | ${verdict}\n`,
    );
  }
  process.exitCode = rows.some((row) => row.pass === false) ? 1 : 0;
} catch (error) {
  process.stderr.write(
    `build-overhead bench broke: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exitCode = 2;
}
