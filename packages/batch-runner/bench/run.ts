// `pnpm bench` for the batch runner: multi-node rendezvous and shutdown with real node
// processes on loopback. Prints one verdict table; exits 1 when a target is missed, 2 when the
// bench itself broke. Baselines are SCAR architrave's figures by design (it needs sshd on
// every node, so it is not run here): a hostfile polled every 3 s, and children that wait on
// inotify with no limit.
import { formatSummary, type ReportRow, renderTable } from '../../core/src/testing/bench-report.ts';
import { summarise } from '../../core/src/testing/bench-stats.ts';
import { allTogether, type JobTiming, lastNodeLate, mainKilled } from './multinode-timing.ts';

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a whole number >= 1, got ${raw}`);
  return value;
}

const rounds = positiveInt('SPOTJOBS_BENCH_ROUNDS', 3);
const nodes = positiveInt('SPOTJOBS_BENCH_NODES', 16);
const log = (line: string) => process.stderr.write(`${line}\n`);
const seconds = (ms: number) => ms / 1000;
const started = performance.now();

const late: JobTiming[] = [];
const together: JobTiming[] = [];
const killed: number[] = [];
let broken: unknown;
try {
  await allTogether(4); // warm-up: module cache, JIT; not recorded
  for (let round = 1; round <= rounds; round++) {
    const a = await lastNodeLate(nodes);
    late.push(a);
    log(
      `[r${round}] last node late: rendezvous ${a.rendezvousAfterLastStartMs} ms after its start, last child gone ${a.childrenGoneAfterMainMs} ms after the main node, done signal ${a.doneSignalMs} ms, a child joins ${a.childJoinMs} ms after its spawn`,
    );
    const b = await allTogether(nodes);
    together.push(b);
    log(
      `[r${round}] ${nodes} together: rendezvous ${b.rendezvousAfterLastStartMs} ms after the last start, last child gone ${b.childrenGoneAfterMainMs} ms after the main node, done signal ${b.doneSignalMs} ms`,
    );
    const c = await mainKilled(4, 1);
    killed.push(c);
    log(`[r${round}] main node killed: children gone ${c} ms later (SPOTJOBS_MAIN_GONE_SECONDS=1)`);
  }
} catch (error) {
  broken = error;
}

const rows: ReportRow[] = [];
if (late.length > 0) {
  const rendezvous = summarise(late.map((t) => seconds(t.rendezvousAfterLastStartMs)));
  const gone = summarise([...late, ...together].map((t) => seconds(t.childrenGoneAfterMainMs)));
  const signal = summarise([...late, ...together].map((t) => seconds(t.doneSignalMs)));
  const joinSummary = summarise(late.map((t) => seconds(t.childJoinMs)));
  const togetherSummary = summarise(together.map((t) => seconds(t.rendezvousAfterLastStartMs)));
  rows.push(
    {
      scenario: `rendezvous of ${nodes} nodes after the last node starts`,
      core: formatSummary(rendezvous, 2, ' s'),
      baseline: 'SCAR: 0–3 s poll',
      ratio: '-',
      target: '≤ 1 s',
      pass: rendezvous.max <= 1,
    },
    {
      scenario: 'last child gone, after the main node exits (< 0: before)',
      core: formatSummary(gone, 2, ' s'),
      baseline: 'SCAR: unbounded',
      ratio: '-',
      target: '≤ 2 s',
      pass: gone.max <= 2,
    },
    {
      scenario: 'done signal: main tells, last child hears',
      core: formatSummary(signal, 3, ' s'),
      baseline: 'SCAR: can be missed',
      ratio: '-',
      target: '-',
      pass: undefined,
    },
    {
      scenario: 'a child: spawn to registered (15 spawned at once)',
      core: formatSummary(joinSummary, 2, ' s'),
      baseline: '-',
      ratio: '-',
      target: '-',
      pass: undefined,
    },
    {
      scenario: `${nodes} nodes spawned at once (2 cores)`,
      core: formatSummary(togetherSummary, 2, ' s'),
      baseline: 'SCAR: 0–3 s poll',
      ratio: '-',
      target: '-',
      pass: undefined,
    },
  );
}
if (killed.length > 0) {
  rows.push({
    scenario: 'children gone after kill -9 of the main (gone-window 1 s)',
    core: formatSummary(summarise(killed.map(seconds)), 2, ' s'),
    baseline: 'SCAR: hangs',
    ratio: '-',
    target: '-',
    pass: undefined,
  });
}

process.stdout.write(
  `\n@spotjobs/batch-runner bench: ${rounds} rounds, medians [min–max] (targets judged on the max), ` +
    `${((performance.now() - started) / 1000).toFixed(0)} s, Node ${process.version}\n\n${renderTable(rows)}\n\n`,
);
if (broken !== undefined) {
  console.error('bench broke:', broken);
  process.exit(2);
}
process.exit(rows.every((row) => row.pass !== false) ? 0 : 1);
