import { posix } from 'node:path';
import { AbortedError, type Clock, systemClock, ValidationError } from '@spotjobs/core';
import type Docker from 'dockerode';
import { ensureImage, type ImageApi } from '../executor/image-puller.ts';
import { TreeGenerations } from './tree-generations.ts';
import { runTreeSync, type TreeSyncLogLine } from './tree-sync-container.ts';

export interface RefreshPortageTreeOptions {
  readonly docker: Docker;
  /** The builder image (its Portage does the sync); pulled first when the engine lacks it. */
  readonly image: string;
  /** The tree builds mount (`SPOTJOBS_COMPILE_TREE_DIR`): a symlink this function maintains. */
  readonly treeDir: string;
  /** Where the image's repos.conf puts the gentoo repository. Default `/var/db/repos/gentoo`. */
  readonly mountPath?: string;
  readonly signal: AbortSignal;
  /** Added to the sync container's labels (e.g. a test-run id). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Every line `emerge --sync` prints, as it arrives. */
  readonly onLog?: (line: TreeSyncLogLine) => void;
  /** Wall-clock limit on the sync itself; past it the sync is killed and the old tree stays. Default 1 h. */
  readonly timeoutMs?: number;
  /**
   * How long a replaced tree is kept for builds that still run on it. Set it above the build
   * timeout. Default 6 h.
   */
  readonly keepRetiredMs?: number;
  /** The sync container's network. Default: the engine's default (the sync needs the mirrors). */
  readonly networkMode?: string;
  /** What the container runs while the sync runs beside it as an exec. Default `['sleep', 'infinity']`. */
  readonly keepAliveCommand?: readonly string[];
  readonly clock?: Clock;
}

/** What one refresh did, for the daemon's log. */
export interface TreeRefreshReport {
  /** The sync exited 0 and its tree is now the one new builds mount. */
  readonly ok: boolean;
  /** `emerge --sync`'s exit code; `null` when it was killed (time limit). */
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly durationMs: number;
  /** The live tree's `metadata/timestamp.chk` after the run (the old tree's when the sync failed). */
  readonly timestamp?: string;
  /** The live generation after the run. */
  readonly generation?: string;
  /** Replaced trees deleted by this run (retired for longer than `keepRetiredMs`). */
  readonly removedGenerations: readonly string[];
}

/**
 * Refreshes the Portage tree builds mount read-only at `/var/db/repos/gentoo`: copies the live
 * tree into a staging directory, runs `emerge --sync` on it in a fresh container of the builder
 * image (bind-mounted read-write at `mountPath`), and only when the sync exits 0 swaps it in,
 * atomically (see `TreeGenerations`): builds running meanwhile keep the tree they started with,
 * and a failed, timed-out or aborted sync leaves the live tree as it was. The container is
 * always removed. Rejects `AbortedError` on abort, `BuildEngineError` when the engine fails.
 *
 * The copy and the clean-up happen on the host, in this process: it must be able to read and
 * delete what the sync container wrote as root (the daemon runs as root, as access to the Docker
 * socket amounts to anyway). `treeDir`'s parent directory must be writable (the generations and
 * the swap symlink live beside it). Disk: one tree per generation kept, so two to three trees.
 *
 * @example
 * ```ts
 * runner.schedule('refresh-portage-tree', config.worker.cron.treeRefresh, async (signal) => {
 *   const report = await refreshPortageTree({ docker, image, treeDir, signal,
 *     keepRetiredMs: buildTimeoutMs + 3600_000, onLog: (l) => logger.debug({ sync: l.stream }, l.line) });
 *   logger.info({ report }, 'portage tree refresh');
 * });
 * ```
 */
export async function refreshPortageTree(options: RefreshPortageTreeOptions): Promise<TreeRefreshReport> {
  const s = compile(options);
  const { signal, clock } = s;
  const started = clock.monotonic();
  if (signal.aborted) throw new AbortedError({ cause: signal.reason });
  const trees = new TreeGenerations(s.treeDir);
  await trees.removeLeftovers();

  const images: ImageApi = {
    getImage: (name) => s.docker.getImage(name),
    pull: (ref, { abortSignal }) =>
      s.docker.pull(ref, { abortSignal }) as unknown as Promise<NodeJS.ReadableStream>,
  };
  const { id: imageId } = await ensureImage(images, s.image, { signal });

  const staging = await trees.stage(signal);
  let promoted: string | undefined;
  let run: Awaited<ReturnType<typeof runTreeSync>>;
  try {
    run = await runTreeSync({
      docker: s.docker,
      imageId,
      source: staging,
      mountPath: s.mountPath,
      labels: s.labels,
      networkMode: s.networkMode,
      keepAliveCommand: s.keepAliveCommand,
      timeoutMs: s.timeoutMs,
      clock,
      signal,
      onLog: s.onLog,
    });
    if (run.exitCode === 0 && !run.timedOut) promoted = await trees.promote(staging, clock.now());
  } finally {
    if (promoted === undefined) await trees.discard(staging);
  }

  const removedGenerations = await trees.retire(clock.now(), s.keepRetiredMs, signal);
  const live = await trees.live();
  const timestamp = await trees.timestamp();
  return {
    ok: promoted !== undefined,
    exitCode: run.exitCode,
    timedOut: run.timedOut,
    durationMs: Math.round(clock.monotonic() - started),
    ...(timestamp !== undefined ? { timestamp } : {}),
    ...(live.kind === 'generation' ? { generation: live.name } : {}),
    removedGenerations,
  };
}

function compile(options: RefreshPortageTreeOptions) {
  const issues: string[] = [];
  if (!options.image) issues.push('image is required');
  const mountPath = options.mountPath ?? '/var/db/repos/gentoo';
  if (!posix.isAbsolute(mountPath) || posix.normalize(mountPath) === '/')
    issues.push(`mountPath must be an absolute path other than /: ${mountPath}`);
  const timeoutMs = options.timeoutMs ?? 60 * 60 * 1000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) issues.push('timeoutMs must be > 0');
  const keepRetiredMs = options.keepRetiredMs ?? 6 * 60 * 60 * 1000;
  if (!(Number.isFinite(keepRetiredMs) && keepRetiredMs >= 0)) issues.push('keepRetiredMs must be >= 0');
  const keepAliveCommand = options.keepAliveCommand ?? ['sleep', 'infinity'];
  if (keepAliveCommand.length === 0) issues.push('keepAliveCommand is empty');
  if (!(options.signal instanceof AbortSignal)) issues.push('signal is required');
  if (issues.length > 0) throw new ValidationError('invalid refreshPortageTree options', issues);
  return {
    docker: options.docker,
    image: options.image,
    treeDir: options.treeDir,
    mountPath: posix.normalize(mountPath),
    signal: options.signal,
    labels: { ...options.labels },
    onLog: options.onLog,
    timeoutMs,
    keepRetiredMs,
    networkMode: options.networkMode,
    keepAliveCommand,
    clock: options.clock ?? systemClock,
  };
}
