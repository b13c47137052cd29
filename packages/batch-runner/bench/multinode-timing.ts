// Timings of multi-node jobs whose nodes are real `runner-main.ts` processes on loopback (the
// same launcher the tests use). Times are wall-clock ms: process spawn and exit as the bench
// sees them, rendezvous moments from the main node's log lines.
import { type MultiNodeJob, startMultiNodeJob } from '../test/run-support/multinode-job.ts';
import { killTestProcesses, type RunnerProcess } from '../test/run-support/runner-process.ts';

/** What one job run measured. */
export interface JobTiming {
  /** Main node's "all nodes joined" minus the spawn of the last node. */
  readonly rendezvousAfterLastStartMs: number;
  /** Latest child exit minus the main node's exit (≤ 0: the children were gone first). */
  readonly childrenGoneAfterMainMs: number;
  /** Median time from a child's spawn to the main node logging its registration. */
  readonly childJoinMs: number;
  /** The main node telling the children to finish, to the last child logging that it heard. */
  readonly doneSignalMs: number;
}

function logTime(
  node: RunnerProcess,
  msg: string,
  match: (line: Record<string, unknown>) => boolean = () => true,
): number {
  const line = node.logs().find((l) => l.msg === msg && match(l));
  if (!line) throw new Error(`${node.name} never logged "${msg}":\n${node.stderr}`);
  return Date.parse(String(line.time));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function finish(job: MultiNodeJob): Promise<JobTiming & { nodes: RunnerProcess[] }> {
  const nodes = job.nodes.map((n) => n!);
  const exits = await Promise.all(nodes.map((n) => n.exited));
  const failed = exits.findIndex((e) => e.code !== 0);
  if (failed >= 0) throw new Error(`node ${failed} exited ${exits[failed]!.code}:\n${nodes[failed]!.stderr}`);
  const main = nodes[0]!;
  const lastSpawn = Math.max(...nodes.map((n) => n.spawnedAt));
  const joins = nodes
    .slice(1)
    .map((child, i) => logTime(main, 'child node joined', (l) => l.node === i + 1) - child.spawnedAt);
  return {
    nodes,
    rendezvousAfterLastStartMs: logTime(main, 'all nodes joined; hostfile written') - lastSpawn,
    childrenGoneAfterMainMs: Math.max(...exits.slice(1).map((e) => e.at)) - exits[0]!.at,
    childJoinMs: median(joins),
    doneSignalMs:
      Math.max(...nodes.slice(1).map((child) => logTime(child, 'the main node finished'))) -
      logTime(main, 'children told to finish'),
  };
}

async function withJob<T>(job: MultiNodeJob, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } finally {
    await killTestProcesses(job.mark);
    await job.cleanup();
  }
}

/**
 * `count` nodes where the last one starts only once all the others have joined and wait (Batch
 * starts nodes on separate machines at different times): the rendezvous cost of the last node.
 */
export async function lastNodeLate(count: number): Promise<JobTiming> {
  const last = count - 1;
  const job = await startMultiNodeJob({ nodes: count, delays: { [last]: 60_000 } });
  return withJob(job, async () => {
    const main = job.nodes[0]!;
    const deadline = Date.now() + 60_000;
    while (main.logs().filter((l) => l.msg === 'child node joined').length < count - 2) {
      if (Date.now() > deadline) throw new Error(`nodes did not join:\n${main.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the machine settle
    await job.startNow(last);
    return finish(job);
  });
}

/** `count` nodes spawned together (on a 2-core machine their start-up competes for CPU). */
export async function allTogether(count: number): Promise<JobTiming> {
  const job = await startMultiNodeJob({ nodes: count });
  return withJob(job, () => finish(job));
}

/** A main node killed with SIGKILL while the app runs: how long until every child has exited. */
export async function mainKilled(count: number, mainGoneSeconds: number): Promise<number> {
  const job = await startMultiNodeJob({
    nodes: count,
    appSleep: 60,
    env: { SPOTJOBS_MAIN_GONE_SECONDS: String(mainGoneSeconds) },
  });
  return withJob(job, async () => {
    const main = job.nodes[0]!;
    await main.waitForLog('starting the app');
    const killedAt = Date.now();
    main.child.kill('SIGKILL');
    const exits = await Promise.all(job.nodes.slice(1).map((n) => n!.exited));
    if (exits.some((e) => e.code !== 69))
      throw new Error(`children exited ${exits.map((e) => e.code).join(', ')}`);
    return Math.max(...exits.map((e) => e.at)) - killedAt;
  });
}
