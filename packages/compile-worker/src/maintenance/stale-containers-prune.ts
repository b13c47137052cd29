import { AbortedError, type Clock, systemClock, ValidationError } from '@spotjobs/core';
import type Docker from 'dockerode';
import { BuildLabels } from '../executor/container-build-executor.ts';
import { dockerStatusCode, engineError } from '../executor/docker-errors.ts';
import { type CompileContainerRole, compileRoleOf } from './container-roles.ts';

export interface PruneStaleContainersOptions {
  readonly docker: Docker;
  /** A running container older than this is a leftover (a crashed daemon's): above the build timeout. */
  readonly olderThanMs: number;
  readonly signal: AbortSignal;
  /** Only containers that also carry all these labels (the daemon's own, a test run's). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Builds running now: job ids (the `spotjobs.job-id` label) or container ids; never removed. */
  readonly keep?: readonly string[];
  /**
   * A container younger than this is never removed, whatever its state: a build being set up,
   * the PKGDIR probe between its exit and its own removal. Default 60 s.
   */
  readonly minAgeMs?: number;
  readonly clock?: Clock;
}

/** One container the prune removed. */
export interface RemovedContainer {
  readonly id: string;
  readonly name: string;
  readonly role: CompileContainerRole;
  readonly jobId?: string;
  /** Its state when removed: `exited`, `created`, `dead`, `running`... */
  readonly state: string;
  /** `not-running`: finished or never started; `overdue`: running longer than `olderThanMs`. */
  readonly reason: 'not-running' | 'overdue';
}

export interface StaleContainersReport {
  /** This product's containers (with the given labels) looked at. */
  readonly scanned: number;
  readonly removed: readonly RemovedContainer[];
  /** Containers left on purpose: in `keep`, younger than `minAgeMs`, or running within their time. */
  readonly kept: number;
  /** Containers the engine would not remove; the next pass tries again. */
  readonly failures: readonly { readonly id: string; readonly message: string }[];
}

const RUNNING_STATES = new Set(['running', 'paused', 'restarting']);

/**
 * Force-removes this product's containers (a `spotjobs.role` of a build, the PKGDIR probe or the
 * tree sync) that are no longer running, or that have run longer than `olderThanMs`: what a
 * crashed or killed daemon left behind, since a live one removes its own. Never touches a
 * container without one of those roles, nor one in `keep`. Rejects `AbortedError` on abort and
 * `BuildEngineError` when the engine cannot list containers; a single removal that fails is
 * reported and the pass goes on.
 *
 * @example
 * ```ts
 * const report = await pruneStaleContainers({ docker, olderThanMs: buildTimeoutMs + 600_000,
 *   keep: runningJobIds(), signal });
 * logger.info({ removed: report.removed.length, failures: report.failures }, 'stale containers pruned');
 * ```
 */
export async function pruneStaleContainers(
  options: PruneStaleContainersOptions,
): Promise<StaleContainersReport> {
  const { docker, signal, olderThanMs } = options;
  const minAgeMs = options.minAgeMs ?? 60_000;
  const issues: string[] = [];
  if (!(Number.isFinite(olderThanMs) && olderThanMs > 0)) issues.push('olderThanMs must be > 0');
  if (!(Number.isFinite(minAgeMs) && minAgeMs >= 0)) issues.push('minAgeMs must be >= 0');
  if (issues.length > 0) throw new ValidationError('invalid pruneStaleContainers options', issues);
  const clock = options.clock ?? systemClock;
  const keep = new Set(options.keep ?? []);
  const extraLabels = Object.entries(options.labels ?? {}).map(([name, value]) => `${name}=${value}`);

  let listed: Docker.ContainerInfo[];
  try {
    listed = await docker.listContainers({
      all: true,
      filters: { label: [BuildLabels.role, ...extraLabels] },
      abortSignal: signal,
    });
  } catch (err) {
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
    throw engineError('container', 'listing containers', err);
  }

  const removed: RemovedContainer[] = [];
  const failures: { id: string; message: string }[] = [];
  let scanned = 0;
  let kept = 0;
  for (const info of listed) {
    const role = compileRoleOf(info.Labels);
    if (!role) continue;
    scanned++;
    const jobId = info.Labels[BuildLabels.jobId];
    if (keep.has(info.Id) || keep.has(info.Id.slice(0, 12)) || (jobId !== undefined && keep.has(jobId))) {
      kept++;
      continue;
    }
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
    const container = docker.getContainer(info.Id);
    try {
      // The list's times are whole seconds; inspect has the exact start.
      const details = await container.inspect({ abortSignal: signal });
      const now = clock.now();
      const state = details.State.Status;
      const running = RUNNING_STATES.has(state);
      if (state === 'removing') continue; // on its way out already
      const young = now - Date.parse(details.Created) < minAgeMs;
      if (young || (running && now - Date.parse(details.State.StartedAt) <= olderThanMs)) {
        kept++;
        continue;
      }
      await container.remove({ force: true, v: true, abortSignal: signal });
      removed.push({
        id: info.Id,
        name: details.Name.replace(/^\//, ''),
        role,
        ...(jobId !== undefined ? { jobId } : {}),
        state,
        reason: running ? 'overdue' : 'not-running',
      });
    } catch (err) {
      if (signal.aborted) throw new AbortedError({ cause: signal.reason });
      // 404: gone meanwhile; 409: its removal is already under way.
      const status = dockerStatusCode(err);
      if (status === 404 || status === 409) continue;
      failures.push({ id: info.Id, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return { scanned, removed, kept, failures };
}
