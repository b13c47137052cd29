// Closed-loop load, shared by the in-process floors of the cache-hit scenario and the HTTP load
// generator's thread: `concurrency` loops, each starting its next call when its last one ended.
import { performance } from 'node:perf_hooks';

/** What one run of closed loops measured, on the thread that ran them. */
export interface ClosedLoopRun {
  /** Per call, in call order. */
  readonly latenciesMs: Float64Array<ArrayBuffer>;
  readonly elapsedMs: number;
  /** Calls per second. */
  readonly throughput: number;
  /** Event-loop utilisation of this thread over the run (0–1). */
  readonly loopUtilisation: number;
  /** This thread's CPU time (user + system) per call, µs. */
  readonly cpuUsPerCall: number;
}

/**
 * Runs `call(0)` … `call(total - 1)` on `concurrency` closed loops and times each call and the
 * whole run.
 *
 * @example
 * ```ts
 * const run = await runClosedLoops(20_000, 200, async () => void (await table.get(key, signal)));
 * console.log(`${run.throughput.toFixed(0)}/s`);
 * ```
 */
export async function runClosedLoops(
  total: number,
  concurrency: number,
  call: (index: number) => Promise<void>,
): Promise<ClosedLoopRun> {
  const latenciesMs = new Float64Array(total);
  let next = 0;
  const loop = async () => {
    while (next < total) {
      const i = next++;
      const sent = performance.now();
      await call(i);
      latenciesMs[i] = performance.now() - sent;
    }
  };
  const loopUse = performance.eventLoopUtilization();
  const cpu = process.threadCpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsedMs = performance.now() - started;
  const used = process.threadCpuUsage(cpu);
  return {
    latenciesMs,
    elapsedMs,
    throughput: (total / elapsedMs) * 1000,
    loopUtilisation: performance.eventLoopUtilization(loopUse).utilization,
    cpuUsPerCall: (used.user + used.system) / total,
  };
}
