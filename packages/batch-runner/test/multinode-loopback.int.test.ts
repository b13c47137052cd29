// Multi-node jobs as real processes on loopback: every node is its own `node runner-main.ts`
// with its own AWS_BATCH_* environment and address (127.0.0.<n>), the app a tiny script that
// prints the hostfile and exits with a chosen code.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { type MultiNodeJob, startMultiNodeJob } from './run-support/multinode-job.ts';
import { killTestProcesses, markedAlive, type RunnerProcess } from './run-support/runner-process.ts';

let job: MultiNodeJob | undefined;
afterEach(async () => {
  if (!job) return;
  await killTestProcesses(job.mark);
  await job.cleanup();
  job = undefined;
});

function started(nodes: Array<RunnerProcess | undefined>): RunnerProcess[] {
  return nodes.filter((n): n is RunnerProcess => n !== undefined);
}

function expectedHostfile(indexes: number[]): string[] {
  return indexes.map((i) => `127.0.0.${i + 1} slots=2`);
}

async function exitCodes(nodes: RunnerProcess[]): Promise<Array<number | null>> {
  return (await Promise.all(nodes.map((n) => n.exited))).map((e) => e.code);
}

describe('multi-node jobs on loopback', () => {
  it.each([
    [4, 3],
    [16, 0],
  ])(
    '%i nodes: rendezvous, hostfile (main first), the app exit code %i on every node',
    async (count, appExit) => {
      job = await startMultiNodeJob({ nodes: count, appExit });
      const nodes = started(job.nodes);
      const [main, ...children] = nodes;
      expect(await exitCodes(nodes)).toEqual(nodes.map(() => appExit));
      // The app printed the hostfile: main first, children in node order, each once.
      expect(main!.stdout.trim().split('\n')).toEqual(
        expectedHostfile(Array.from({ length: count }, (_, i) => i)),
      );
      const mainLogs = main!.logs();
      expect(mainLogs.filter((l) => l.msg === 'child node joined')).toHaveLength(count - 1);
      expect(mainLogs.filter((l) => l.msg === 'child node finished')).toHaveLength(count - 1);
      expect(mainLogs).toContainEqual(
        expect.objectContaining({ msg: 'children told to finish', exitCode: appExit }),
      );
      for (const child of children) {
        expect(child.logs()).toContainEqual(
          expect.objectContaining({ msg: 'the main node finished', exitCode: appExit }),
        );
      }
      const timeLog = await readFile(
        join(job.root, 'node-0', `spotjobs-${job.jobId}`, 'output', 'time.log'),
        'utf8',
      );
      expect(timeLog).toContain(`exit_code: ${appExit}\n`);
      expect(timeLog).toContain(`node: 0 of ${count} (main) 127.0.0.1 slots=2\n`);
      expect(await markedAlive(job.mark)).toEqual([]);
    },
    180_000,
  );

  it('runs the app behind the launcher on the main node and the child command on children, stopped at the end', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fake-mpirun-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const launcher = join(dir, 'fake-mpirun');
    // Counts the ranks of the hostfile as mpirun would, then runs the program once, after both
    // children's commands are up (so it never ends the job before they could print).
    await writeFile(
      launcher,
      `#!/bin/sh
[ "$1" = --hostfile ] || exit 64
ranks=$(awk '{ split($2, a, "="); n += a[2] } END { print n }' "$2")
shift 2
i=0
while [ "$(ls ${dir}/up.* 2>/dev/null | wc -l)" -lt 2 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
echo "fake-mpirun: $ranks ranks"
exec "$@"
`,
    );
    await chmod(launcher, 0o755);
    job = await startMultiNodeJob({
      nodes: 3,
      env: {
        SPOTJOBS_LAUNCHER: JSON.stringify([launcher, '--hostfile', '{hostfile}']),
        SPOTJOBS_CHILD_COMMAND: JSON.stringify([
          '/bin/sh',
          '-c',
          `echo daemon up for $SPOTJOBS_RUN_ID; touch ${dir}/up.$$; exec sleep 600`,
        ]),
      },
    });
    const nodes = started(job.nodes);
    expect(await exitCodes(nodes)).toEqual([0, 0, 0]);
    expect(nodes[0]!.stdout.trim().split('\n')).toEqual([
      'fake-mpirun: 6 ranks',
      ...expectedHostfile([0, 1, 2]),
    ]);
    for (const [i, child] of nodes.slice(1).entries()) {
      expect(child.stdout).toBe(`daemon up for ${job.jobId}\n`);
      const appLog = await readFile(
        join(job.root, `node-${i + 1}`, `spotjobs-${job.jobId}`, 'output', 'app.log'),
        'utf8',
      );
      expect(appLog).toBe(`daemon up for ${job.jobId}\n`);
    }
    expect(await markedAlive(job.mark)).toEqual([]); // the sleeping daemons were stopped
  }, 120_000);

  it('takes children that start before the main node and a late joiner', async () => {
    // Node 2 starts before the main node is listening; node 3 joins 4 s after the others.
    job = await startMultiNodeJob({ nodes: 4, appExit: 0, delays: { 0: 1500, 1: 1500, 3: 5500 } });
    await job.allStarted;
    const nodes = started(job.nodes);
    expect(await exitCodes(nodes)).toEqual([0, 0, 0, 0]);
    const main = job.nodes[0]!;
    expect(main.stdout.trim().split('\n')).toEqual(expectedHostfile([0, 1, 2, 3]));
    const early = job.nodes[2]!.logs();
    expect(early).toContainEqual(
      expect.objectContaining({ msg: 'main node not reachable yet; retrying', problem: 'ECONNREFUSED' }),
    );
    expect(early).toContainEqual(
      expect.objectContaining({ msg: 'joined the main node; waiting for the job to end' }),
    );
  }, 120_000);

  it('fails with a clear error when a child never joins, and lets the others go', async () => {
    job = await startMultiNodeJob({
      nodes: 3,
      never: [2],
      env: { SPOTJOBS_RENDEZVOUS_TIMEOUT_SECONDS: '3' },
    });
    const [main, child] = [job.nodes[0]!, job.nodes[1]!];
    const [mainExit, childExit] = await Promise.all([main.exited, child.exited]);
    expect(mainExit.code).toBe(69);
    expect(main.logs()).toContainEqual(
      expect.objectContaining({
        level: 50,
        code: 'RENDEZVOUS',
        msg: '1 of 2 child node(s) did not join within 3 s: node(s) 2 (SPOTJOBS_RENDEZVOUS_TIMEOUT_SECONDS)',
      }),
    );
    expect(main.stdout).toBe(''); // the app never ran
    // The child that joined is told the job is over instead of waiting forever.
    expect(childExit.code).toBe(69);
    expect(child.logs()).toContainEqual(
      expect.objectContaining({ msg: 'the main node finished', exitCode: 69 }),
    );
    const timeLog = await readFile(
      join(job.root, 'node-0', `spotjobs-${job.jobId}`, 'output', 'time.log'),
      'utf8',
    );
    expect(timeLog).toMatch(/^status: failed: 1 of 2 child node\(s\) did not join/m);
  }, 120_000);

  it('lets children exit with a clear error when the main node is killed (kill -9)', async () => {
    job = await startMultiNodeJob({ nodes: 4, appSleep: 60, env: { SPOTJOBS_MAIN_GONE_SECONDS: '2' } });
    const main = job.nodes[0]!;
    await main.waitForLog('starting the app');
    const children = started(job.nodes).slice(1);
    main.child.kill('SIGKILL');
    const exits = await Promise.all(children.map((c) => c.exited));
    expect(exits.map((e) => e.code)).toEqual([69, 69, 69]);
    for (const child of children) {
      expect(child.logs()).toContainEqual(
        expect.objectContaining({
          level: 50,
          code: 'RENDEZVOUS',
          msg: expect.stringMatching(
            /^main node 127\.0\.0\.1:\d+ unreachable for \d+ s \(ECONNREFUSED\): it stopped without telling this node$/,
          ),
        }),
      );
    }
  }, 120_000);

  it('on SIGTERM to the main node stops the app, tells the children, and exits with the termination code', async () => {
    job = await startMultiNodeJob({ nodes: 3, appSleep: 60, env: { SPOTJOBS_TERM_GRACE_SECONDS: '2' } });
    const main = job.nodes[0]!;
    await main.waitForLog('starting the app');
    main.child.kill('SIGTERM');
    expect(await exitCodes(started(job.nodes))).toEqual([143, 143, 143]);
    const timeLog = await readFile(
      join(job.root, 'node-0', `spotjobs-${job.jobId}`, 'output', 'time.log'),
      'utf8',
    );
    expect(timeLog).toContain('exit_code: 143\n');
    expect(timeLog).toContain('app_exit_code: 143\nsignal: SIGTERM\n');
    expect(await markedAlive(job.mark)).toEqual([]);
  }, 120_000);
});
