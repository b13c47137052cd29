import { AbortedError, ValidationError } from '@spotjobs/core';
import type Docker from 'dockerode';
import { dockerStatusCode, engineError } from '../executor/docker-errors.ts';
import { repositoryOf } from './image-reference.ts';

export interface PruneImagesOptions {
  readonly docker: Docker;
  /** Images in use (the configured builder image): references or ids. Never removed. */
  readonly keep: readonly string[];
  readonly signal: AbortSignal;
  /**
   * The repositories whose images this product pulled or made. Default: those of the references
   * in `keep` (`docker.io/gentoo/stage3:latest` -> every `gentoo/stage3` image).
   */
  readonly repositories?: readonly string[];
  /** Images carrying all these labels are this product's too (builder images it builds or imports). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** One image the prune removed. */
export interface RemovedImage {
  readonly id: string;
  /** Its tags and digests when it was removed (none for a dangling image without digests). */
  readonly refs: readonly string[];
  /** Its size as the engine reported it. */
  readonly size: number;
}

export interface ImagePruneReport {
  /** This product's images looked at. */
  readonly scanned: number;
  readonly removed: readonly RemovedImage[];
  /** This product's tags taken off images that stay because another repository tags them too. */
  readonly untagged: readonly string[];
  /** Images left: kept, or used by a container. */
  readonly kept: number;
  /**
   * The sizes of the images removed. An upper bound of what the disk got back: a layer shared
   * with an image that stays (a common base) is counted yet stays.
   */
  readonly freedBytes: number;
  /** Images the engine would not remove; the next pass tries again. */
  readonly failures: readonly { readonly id: string; readonly message: string }[];
}

/**
 * Removes this product's images that nothing needs: old builder images (other tags or digests of
 * the builder image's repository, left behind when the configured tag moved on) and dangling ones
 * of those repositories (by their digests, or by `labels`), unless in `keep` or used by any
 * container, running or not. An image is this product's only through `repositories` or `labels`:
 * nothing else on the engine is touched, and an image that another repository also tags only
 * loses this product's tags. Never forces: a container created meanwhile makes the engine refuse,
 * and the image stays. Rejects `AbortedError` on abort and `BuildEngineError` when the engine
 * cannot list; a single removal that fails is reported and the pass goes on.
 *
 * @example
 * ```ts
 * const report = await pruneImages({ docker, keep: [config.worker.builderImage], signal });
 * logger.info({ removed: report.removed.length, freedBytes: report.freedBytes }, 'images pruned');
 * ```
 */
export async function pruneImages(options: PruneImagesOptions): Promise<ImagePruneReport> {
  const { docker, signal } = options;
  if (!Array.isArray(options.keep))
    throw new ValidationError('invalid pruneImages options', ['keep must be a list']);
  const repositories = new Set(
    (options.repositories ?? options.keep).map((ref) => repositoryOf(ref)).filter((r) => r !== undefined),
  );
  const labels = Object.entries(options.labels ?? {});
  const report = {
    scanned: 0,
    removed: [] as RemovedImage[],
    untagged: [] as string[],
    kept: 0,
    freedBytes: 0,
  };
  const failures: { id: string; message: string }[] = [];
  if (repositories.size === 0 && labels.length === 0) return { ...report, failures };

  const engine = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      if (signal.aborted) throw new AbortedError({ cause: signal.reason });
      throw engineError('image', what, err);
    }
  };
  const keepIds = new Set<string>();
  for (const ref of options.keep) {
    // An image inspect takes no signal (dockerode would put it in the query string).
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
    const id = await docker
      .getImage(ref)
      .inspect()
      .then(
        (info) => info.Id,
        (err: unknown) => {
          if (dockerStatusCode(err) === 404) return undefined; // not here: nothing to keep
          throw engineError('image', `inspecting image ${ref}`, err);
        },
      );
    if (id) keepIds.add(id);
  }
  const images = await engine('listing images', () => docker.listImages({ abortSignal: signal }));
  const containers = await engine('listing containers', () =>
    docker.listContainers({ all: true, abortSignal: signal }),
  );
  const used = new Set(containers.map((c) => c.ImageID));

  const ours = (ref: string) => {
    const repository = repositoryOf(ref);
    return repository !== undefined && repositories.has(repository);
  };
  for (const image of images) {
    const tags = realRefs(image.RepoTags);
    const refs = [...tags, ...realRefs(image.RepoDigests)];
    const labelled = labels.length > 0 && labels.every(([name, value]) => image.Labels?.[name] === value);
    if (!labelled && !refs.some(ours)) continue;
    report.scanned++;
    if (keepIds.has(image.Id) || used.has(image.Id)) {
      report.kept++;
      continue;
    }
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
    const foreignTags = tags.filter((tag) => !ours(tag));
    try {
      if (foreignTags.length > 0) {
        // Tagged by someone else too: take our tags off, the image stays theirs.
        for (const tag of tags.filter(ours)) {
          await docker.getImage(tag).remove({ abortSignal: signal });
          report.untagged.push(tag);
        }
        report.kept++;
        continue;
      }
      // Tag by tag (removing by id refuses an image with several), the last one deletes it;
      // then by id for what only digests name.
      const answers: RemoveAnswer[] = [];
      const remove = async (name: string) => {
        answers.push(...((await docker.getImage(name).remove({ abortSignal: signal })) as RemoveAnswer[]));
      };
      for (const tag of tags) await remove(tag);
      if (!answers.some((a) => a.Deleted === image.Id)) await remove(image.Id);
      report.removed.push({ id: image.Id, refs, size: image.Size });
      report.freedBytes += image.Size;
    } catch (err) {
      if (signal.aborted) throw new AbortedError({ cause: signal.reason });
      const status = dockerStatusCode(err);
      if (status === 404) continue; // gone meanwhile
      if (status === 409) {
        report.kept++; // a container took it meanwhile, or a child image needs it
        continue;
      }
      failures.push({ id: image.Id, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return { ...report, failures };
}

/** One line of the engine's answer to an image removal. */
interface RemoveAnswer {
  readonly Untagged?: string;
  readonly Deleted?: string;
}

// The engine writes `<none>:<none>` / `<none>@<none>` (or nothing) for an untagged image.
function realRefs(refs: readonly string[] | null | undefined): string[] {
  return (refs ?? []).filter((ref) => !ref.startsWith('<none>'));
}
