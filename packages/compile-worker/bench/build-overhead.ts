import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSummary, type ReportRow, type Summary, summarise } from '@spotjobs/core/bench';
import type Docker from 'dockerode';
import { ContainerBuildExecutor } from '../src/executor/container-build-executor.ts';
import { CONTAINER_OUTPUT_PKGDIR } from '../src/executor/container-sandbox.ts';
import { prepareDocker } from '../test/support/executor-docker.ts';
import { type EngineCall, recordEngineCalls } from './engine-call-recorder.ts';

export interface BuildOverheadSettings {
  /** Recorded builds per side, after the warm-up. */
  readonly rounds: number;
  readonly log: (line: string) => void;
}

const TARGET_MS = 100;
const WARMUP_BUILDS = 2;
const CPV = 'app-misc/bench-overhead-1.0';
const USE = ['-doc', 'x'];
/** The same limits on every side: what the daemon would set, scaled to the test image. */
const LIMITS = { memoryBytes: 512 * 2 ** 20, cpus: 1, pidsLimit: 256, capAdd: ['SYS_PTRACE'] } as const;
const BENCH_LABEL = 'spotjobs.bench';

type SideName = 'executor' | 'docker-run' | 'engine-api';
const SIDES: readonly SideName[] = ['executor', 'docker-run', 'engine-api'];

interface Sample {
  /** From the call to the artifact on the host (hashed, for the executor). */
  readonly resultMs: number;
  /** From the call to the container gone. */
  readonly removedMs: number;
  readonly calls?: readonly EngineCall[];
  readonly phases?: Readonly<Record<string, number>>;
}

interface Bench {
  readonly docker: Docker;
  readonly image: string;
  readonly pkgdir: string;
  readonly runId: string;
  readonly root: string;
  readonly take: () => EngineCall[];
  readonly executor: ContainerBuildExecutor;
}

/**
 * Per-build orchestration overhead of `ContainerBuildExecutor` beyond a plain `docker run` of
 * the same container (issue target: ≤ 100 ms). Each round runs, in an order that rotates:
 *
 * - `executor`: `ContainerBuildExecutor.build()`, from the call to the result (artifact on the
 *   host, hashed), and on to the container removed;
 * - `docker-run` (the baseline): `docker run --rm` of the same image with the same limits and
 *   mounts doing the same two emerge calls (in one `sh -c`), the binary package landing in a
 *   bind-mounted host directory; timed from spawning the CLI to its exit (after the removal);
 * - `engine-api` (information): the same `docker run` through dockerode (create, attach,
 *   wait for removal, start).
 *
 * The stand-in's dependency is already in each side's binpkg cache after the warm-up, so every
 * recorded build does the same work. Prints each round and where the executor's time went
 * (phases, and every Engine API call it made).
 *
 * @example
 * ```ts
 * const rows = await buildOverheadScenario({ rounds: 15, log: (line) => process.stderr.write(`${line}\n`) });
 * ```
 */
export async function buildOverheadScenario(settings: BuildOverheadSettings): Promise<ReportRow[]> {
  if (!Number.isInteger(settings.rounds) || settings.rounds < 1) throw new Error('rounds must be >= 1');
  const bench = await openBench();
  // The rounds are interleaved so that load from elsewhere hits every side alike; the load
  // average says how much there was.
  settings.log(`[build-overhead] ${settings.rounds} rounds; load average ${loadLine()}`);
  const samples: Record<SideName, Sample[]> = { executor: [], 'docker-run': [], 'engine-api': [] };
  try {
    for (let warm = 0; warm < WARMUP_BUILDS; warm++) {
      for (const side of SIDES) await runSide(bench, side);
    }
    bench.take();
    for (let round = 0; round < settings.rounds; round++) {
      const shift = round % SIDES.length;
      for (const side of [...SIDES.slice(shift), ...SIDES.slice(0, shift)]) {
        samples[side].push(await runSide(bench, side));
      }
      const [e, d, a] = SIDES.map((side) => samples[side][round] as Sample);
      settings.log(
        `[build-overhead r${round + 1}] executor ${ms(e!.resultMs)} (removed ${ms(e!.removedMs)}), ` +
          `docker run ${ms(d!.resultMs)}, engine API ${ms(a!.resultMs)}: overhead ${signed(e!.resultMs - d!.resultMs)}` +
          ` | ${Object.entries(e!.phases ?? {})
            .map(([name, value]) => `${name} ${value}`)
            .join(' ')}`,
      );
    }
  } finally {
    await closeBench(bench);
  }
  settings.log(`[build-overhead] done; load average ${loadLine()}`);
  for (const line of breakdown(samples.executor)) settings.log(line);
  return rows(samples);
}

async function openBench(): Promise<Bench> {
  const { docker, image } = await prepareDocker();
  const take = recordEngineCalls(docker).take;
  const runId = randomBytes(4).toString('hex');
  const root = await mkdtemp(join(tmpdir(), 'spotjobs-bench-build-'));
  for (const dir of ['work', 'cache-executor', 'cache-docker-run', 'cache-engine-api', 'out']) {
    await mkdir(join(root, dir), { recursive: true });
  }
  const executor = new ContainerBuildExecutor({
    docker,
    image,
    workDir: join(root, 'work'),
    cacheDir: join(root, 'cache-executor'),
    networkMode: 'none',
    ...LIMITS,
    stopTimeoutSeconds: 2,
    labels: { [BENCH_LABEL]: runId },
  });
  const pkgdir = (
    await dockerCli(['run', '--rm', '--network', 'none', image, 'portageq', 'envvar', 'PKGDIR'])
  ).stdout.trim();
  return { docker, image, pkgdir, runId, root, take, executor };
}

async function closeBench(bench: Bench): Promise<void> {
  const filters = JSON.stringify({ label: [`${BENCH_LABEL}=${bench.runId}`] });
  for (const c of await bench.docker.listContainers({ all: true, filters })) {
    await bench.docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => {});
  }
  await rm(bench.root, { recursive: true, force: true });
}

function runSide(bench: Bench, side: SideName): Promise<Sample> {
  if (side === 'executor') return viaExecutor(bench);
  if (side === 'docker-run') return viaDockerRun(bench);
  return viaEngineApi(bench);
}

async function viaExecutor(bench: Bench): Promise<Sample> {
  bench.take();
  const started = performance.now();
  const result = await bench.executor.build({
    cpv: CPV,
    use: USE,
    jobId: `bench-${bench.runId}`,
    signal: AbortSignal.timeout(120_000),
  });
  const resultMs = performance.now() - started;
  await result.removed;
  const removedMs = performance.now() - started;
  const calls = bench.take().map((call) => ({ ...call, startedAt: call.startedAt - started }));
  await rm(result.workDir, { recursive: true, force: true });
  if (!result.ok) throw new Error(`executor build failed: ${result.message}\n${result.log.tail.join('\n')}`);
  const { prepareMs, depsMs, packageMs, collectMs } = result.durations;
  return {
    resultMs,
    removedMs,
    calls,
    phases: { prepare: prepareMs, deps: depsMs, package: packageMs, collect: collectMs },
  };
}

// The two calls of the stand-in, as a plain `docker run` would give them: one shell, the atom
// and the output PKGDIR as positional parameters (constants, never interpolated).
const STEPS_SCRIPT =
  'emerge --onlydeps --onlydeps-with-rdeps n "$1" && PKGDIR="$2" exec emerge --buildpkgonly "$1"';

async function viaDockerRun(bench: Bench): Promise<Sample> {
  const out = join(bench.root, 'out');
  const started = performance.now();
  await dockerCli([
    'run',
    '--rm',
    '--name',
    `spotjobs-bench-run-${randomBytes(3).toString('hex')}`,
    '--label',
    `${BENCH_LABEL}=${bench.runId}`,
    '--network',
    'none',
    '--memory',
    String(LIMITS.memoryBytes),
    '--memory-swap',
    String(LIMITS.memoryBytes),
    '--cpus',
    String(LIMITS.cpus),
    '--pids-limit',
    String(LIMITS.pidsLimit),
    ...LIMITS.capAdd.flatMap((cap) => ['--cap-add', cap]),
    '-v',
    `${join(bench.root, 'cache-docker-run')}:${bench.pkgdir}`,
    '-v',
    `${out}:${CONTAINER_OUTPUT_PKGDIR}`,
    '-e',
    `USE=${USE.join(' ')}`,
    '--entrypoint',
    'sh',
    bench.image,
    '-c',
    STEPS_SCRIPT,
    'sh',
    `=${CPV}`,
    CONTAINER_OUTPUT_PKGDIR,
  ]);
  const resultMs = performance.now() - started;
  await takeOutput(out);
  return { resultMs, removedMs: resultMs };
}

async function viaEngineApi(bench: Bench): Promise<Sample> {
  const out = join(bench.root, 'out');
  const started = performance.now();
  const container = await bench.docker.createContainer({
    name: `spotjobs-bench-api-${randomBytes(3).toString('hex')}`,
    Image: bench.image,
    Entrypoint: ['sh'],
    Cmd: ['-c', STEPS_SCRIPT, 'sh', `=${CPV}`, CONTAINER_OUTPUT_PKGDIR],
    Env: [`USE=${USE.join(' ')}`],
    Labels: { [BENCH_LABEL]: bench.runId },
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      AutoRemove: true,
      NetworkMode: 'none',
      Memory: LIMITS.memoryBytes,
      MemorySwap: LIMITS.memoryBytes,
      NanoCpus: LIMITS.cpus * 1e9,
      PidsLimit: LIMITS.pidsLimit,
      CapAdd: [...LIMITS.capAdd],
      Binds: [`${join(bench.root, 'cache-engine-api')}:${bench.pkgdir}`, `${out}:${CONTAINER_OUTPUT_PKGDIR}`],
    },
  });
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  stream.resume();
  const waited = container.wait({ condition: 'removed' }) as Promise<{ StatusCode: number }>;
  await container.start();
  const { StatusCode } = await waited;
  const resultMs = performance.now() - started;
  if (StatusCode !== 0) throw new Error(`engine API baseline exited ${StatusCode}`);
  await takeOutput(out);
  return { resultMs, removedMs: resultMs };
}

/** Checks the baseline left exactly one binary package in `out`, then empties it for the next build. */
async function takeOutput(out: string): Promise<void> {
  const files = (await readdir(out, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  if (files.length !== 1) throw new Error(`baseline left ${files.length} files in its output directory`);
  for (const entry of await readdir(out)) await rm(join(out, entry), { recursive: true, force: true });
}

function dockerCli(args: readonly string[]): Promise<{ stdout: string }> {
  const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  return once(child, 'close').then(([code]) => {
    if (code !== 0) throw new Error(`docker ${args[0]} exited ${code}: ${stderr.trim()}`);
    return { stdout };
  });
}

function rows(samples: Record<SideName, Sample[]>): ReportRow[] {
  const executor = samples.executor;
  const run = samples['docker-run'];
  const api = samples['engine-api'];
  const overhead = summarise(executor.map((s, i) => s.resultMs - (run[i]?.resultMs ?? Number.NaN)));
  const overheadRemoved = summarise(executor.map((s, i) => s.removedMs - (run[i]?.resultMs ?? Number.NaN)));
  const apiVsRun = summarise(api.map((s, i) => s.resultMs - (run[i]?.resultMs ?? Number.NaN)));
  const runSummary = formatSummary(summarise(run.map((s) => s.resultMs)), 0, ' ms');
  return [
    {
      scenario: 'build overhead vs docker run (call → artifact hashed)',
      core: formatSummary(summarise(executor.map((s) => s.resultMs)), 0, ' ms'),
      baseline: runSummary,
      ratio: formatSignedSummary(overhead),
      target: `≤ +${TARGET_MS} ms`,
      pass: overhead.median <= TARGET_MS,
    },
    {
      scenario: 'build overhead vs docker run (call → container removed)',
      core: formatSummary(summarise(executor.map((s) => s.removedMs)), 0, ' ms'),
      baseline: runSummary,
      ratio: formatSignedSummary(overheadRemoved),
      target: 'info',
      pass: undefined,
    },
    {
      scenario: 'docker run through the Engine API (dockerode) vs the CLI',
      core: formatSummary(summarise(api.map((s) => s.resultMs)), 0, ' ms'),
      baseline: runSummary,
      ratio: formatSignedSummary(apiVsRun),
      target: 'info',
      pass: undefined,
    },
  ];
}

/** Where the executor's time went: its phases, and its Engine API calls grouped by endpoint. */
function breakdown(samples: readonly Sample[]): string[] {
  const lines = ['[build-overhead] executor breakdown, medians over the recorded builds:'];
  const phaseNames = Object.keys(samples[0]?.phases ?? {});
  lines.push(
    `  phases: ${phaseNames
      .map(
        (name) => `${name} ${formatSummary(summarise(samples.map((s) => s.phases?.[name] ?? 0)), 0, ' ms')}`,
      )
      .join(', ')}`,
  );
  const byEndpoint = new Map<string, number[][]>();
  samples.forEach((sample, i) => {
    for (const call of sample.calls ?? []) {
      const perBuild = byEndpoint.get(call.endpoint) ?? samples.map(() => []);
      perBuild[i]?.push(call.ms);
      byEndpoint.set(call.endpoint, perBuild);
    }
  });
  lines.push('  engine calls (per build: count × median ms to the answer; streams: to their headers):');
  for (const [endpoint, perBuild] of byEndpoint) {
    const counts = summarise(perBuild.map((calls) => calls.length));
    const each = summarise(perBuild.flat());
    const total = summarise(perBuild.map((calls) => calls.reduce((a, b) => a + b, 0)));
    lines.push(
      `    ${endpoint.padEnd(40)} ${String(counts.median).padStart(3)} × ${each.median.toFixed(1).padStart(6)} ms = ${total.median.toFixed(1).padStart(6)} ms`,
    );
  }
  const engineTotal = summarise(samples.map((s) => (s.calls ?? []).reduce((sum, call) => sum + call.ms, 0)));
  lines.push(`  all engine calls per build: ${formatSummary(engineTotal, 1, ' ms')}`);
  return lines;
}

function loadLine(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(0)} ms`;
}

function formatSignedSummary(summary: Summary): string {
  return `${signed(summary.median)} [${signed(summary.min)}–${signed(summary.max)}]`;
}
