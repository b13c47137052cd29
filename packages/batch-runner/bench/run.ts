// `pnpm bench` for the batch runner: multi-node rendezvous and shutdown with real node
// processes on loopback. Prints one verdict table; exits 1 when a target is missed, 2 when the
// bench itself broke. Baselines are SCAR architrave's figures by design (it needs sshd on
// every node, so it is not run here): a hostfile polled every 3 s, and children that wait on
// inotify with no limit.
import {
  type BenchSettings,
  formatSummary,
  logToStderr,
  positiveIntFromEnv,
  type ReportRow,
  runBenchMain,
  summarise,
} from '@spotjobs/core/bench';
import { allTogether, type JobTiming, lastNodeLate, mainKilled } from './multinode-timing.ts';

interface MultinodeSettings extends BenchSettings {
  /** Nodes per job (`SPOTJOBS_BENCH_NODES`). */
  readonly nodes: number;
}

const seconds = (ms: number) => ms / 1000;

/** Rounds of a job whose last node starts late, each beside one whose nodes start together. */
async function rendezvousScenario({ rounds, nodes, log }: MultinodeSettings): Promise<ReportRow[]> {
  const late: JobTiming[] = [];
  const together: JobTiming[] = [];
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
  }
  const rendezvous = summarise(late.map((t) => seconds(t.rendezvousAfterLastStartMs)));
  const gone = summarise([...late, ...together].map((t) => seconds(t.childrenGoneAfterMainMs)));
  const signal = summarise([...late, ...together].map((t) => seconds(t.doneSignalMs)));
  const joinSummary = summarise(late.map((t) => seconds(t.childJoinMs)));
  const togetherSummary = summarise(together.map((t) => seconds(t.rendezvousAfterLastStartMs)));
  return [
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
  ];
}

/** Rounds of a job whose main node is killed with SIGKILL: how long its children outlive it. */
async function mainKilledScenario({ rounds, log }: MultinodeSettings): Promise<ReportRow[]> {
  const killed: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const c = await mainKilled(4, 1);
    killed.push(c);
    log(`[r${round}] main node killed: children gone ${c} ms later (SPOTJOBS_MAIN_GONE_SECONDS=1)`);
  }
  return [
    {
      scenario: 'children gone after kill -9 of the main (gone-window 1 s)',
      core: formatSummary(summarise(killed.map(seconds)), 2, ' s'),
      baseline: 'SCAR: hangs',
      ratio: '-',
      target: '-',
      pass: undefined,
    },
  ];
}

await runBenchMain<MultinodeSettings>({
  title: '@spotjobs/batch-runner',
  scenarios: { rendezvous: rendezvousScenario, 'main-killed': mainKilledScenario },
  settings: () => ({
    rounds: positiveIntFromEnv('SPOTJOBS_BENCH_ROUNDS', 3),
    nodes: positiveIntFromEnv('SPOTJOBS_BENCH_NODES', 16),
    log: logToStderr,
  }),
  describe: (settings) => `${settings.rounds} rounds, medians [min–max] (targets judged on the max)`,
});
