import { randomBytes } from 'node:crypto';
import { AbortedError, type Clock } from '@spotjobs/core';
import type Docker from 'dockerode';
import { BuildLabels } from '../executor/container-build-executor.ts';
import { runContainerExec } from '../executor/container-exec.ts';
import { engineError, ignoreDockerStatus } from '../executor/docker-errors.ts';
import { LineSplitter } from '../executor/line-splitter.ts';
import { CompileContainerRoles } from './container-roles.ts';

/** One line `emerge --sync` printed. */
export interface TreeSyncLogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export interface TreeSyncOptions {
  readonly docker: Docker;
  readonly imageId: string;
  /** Host directory bind-mounted read-write at `mountPath`: the tree being synced. */
  readonly source: string;
  readonly mountPath: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly networkMode: string | undefined;
  readonly keepAliveCommand: readonly string[];
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly onLog: ((line: TreeSyncLogLine) => void) | undefined;
}

/** How the sync ended: its exit code (`null`: killed, none recorded) and whether the time limit killed it. */
export interface TreeSyncRun {
  readonly exitCode: number | null;
  readonly timedOut: boolean;
}

/**
 * Runs `emerge --sync` (an argv, no shell) as an exec in a fresh container of the builder image,
 * with `source` mounted at the repository's location, and streams its lines. The container is
 * removed whatever happens; an abort removes it at once (which ends the exec) and rejects
 * `AbortedError`; the time limit kills it and resolves `{ timedOut: true }`.
 *
 * @example
 * ```ts
 * const run = await runTreeSync({ docker, imageId, source: staging, mountPath: '/var/db/repos/gentoo',
 *   labels: {}, networkMode: undefined, keepAliveCommand: ['sleep', 'infinity'], timeoutMs: 3600_000,
 *   clock: systemClock, signal, onLog: (l) => logger.info(l.line) });
 * ```
 */
export async function runTreeSync(options: TreeSyncOptions): Promise<TreeSyncRun> {
  const { docker, signal, clock } = options;
  // No abortSignal on create: a create cancelled in flight may still make a container we would
  // never hear of. The signal is checked once it exists, with the removal in place.
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      name: `spotjobs-sync-${randomBytes(4).toString('hex')}`,
      Image: options.imageId,
      Entrypoint: [...options.keepAliveCommand],
      Cmd: [],
      Labels: { ...options.labels, [BuildLabels.role]: CompileContainerRoles.sync },
      HostConfig: {
        // An init as PID 1 reaps the sync's children and ends the keep-alive on kill at once.
        Init: true,
        Mounts: [{ Type: 'bind', Source: options.source, Target: options.mountPath, ReadOnly: false }],
        ...(options.networkMode ? { NetworkMode: options.networkMode } : {}),
      },
    });
  } catch (err) {
    throw engineError('container', `creating the tree sync container from ${options.imageId}`, err);
  }
  // One removal, shared: the final one must wait for the abort's, not see its 409 and return.
  let removal: Promise<void> | undefined;
  const remove = () => {
    removal ??= container
      .remove({ force: true, v: true, abortSignal: AbortSignal.timeout(60_000) })
      .catch(ignoreDockerStatus(404, 409));
    return removal;
  };
  const onAbort = () => {
    remove().catch(() => {});
  };
  let timedOut = false;
  const timer = clock.setTimer(options.timeoutMs, () => {
    timedOut = true;
    container.kill({ signal: 'SIGKILL' }).catch(() => {});
  });
  const lines = {
    stdout: new LineSplitter((line) => options.onLog?.({ stream: 'stdout', line })),
    stderr: new LineSplitter((line) => options.onLog?.({ stream: 'stderr', line })),
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
    await container.start();
    const exitCode = await runContainerExec(container, ['emerge', '--sync'], {}, (stream, chunk) =>
      lines[stream].push(chunk),
    );
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
    return { exitCode: timedOut ? null : exitCode, timedOut };
  } catch (err) {
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
    if (timedOut) return { exitCode: null, timedOut };
    throw engineError('container', 'running emerge --sync', err);
  } finally {
    timer.cancel();
    signal.removeEventListener('abort', onAbort);
    lines.stdout.end();
    lines.stderr.end();
    // A removal that fails leaves a labelled container: the stale-container prune sweeps it.
    await remove().catch(() => {});
  }
}
