import { AbortedError, type Clock, type Logger, systemClock } from '@spotjobs/core';
import { BuildEngineError } from './build-engine-error.ts';
import type { BuildImage } from './build-executor.ts';
import { dockerStatusCode, engineError } from './docker-errors.ts';
import { LineSplitter } from './line-splitter.ts';

/** The part of dockerode that finds and pulls images (a fake in unit tests). */
export interface ImageApi {
  // dockerode's image inspect takes no abort signal (it would end up in the query string).
  getImage(name: string): { inspect(): Promise<{ Id: string; RepoDigests?: string[] }> };
  pull(
    ref: string,
    options: { abortSignal: AbortSignal; auth?: RegistryAuth },
  ): Promise<NodeJS.ReadableStream>;
}

/** Credentials for a private registry, as the Docker API takes them. */
export interface RegistryAuth {
  readonly username?: string;
  readonly password?: string;
  readonly serveraddress?: string;
  readonly identitytoken?: string;
}

/** One progress event of a pull, as the engine reports it (per layer). */
export interface PullProgress {
  readonly image: string;
  /** `Pulling fs layer`, `Downloading`, `Extracting`, `Pull complete`, `Status: Downloaded newer image...`. */
  readonly status: string;
  readonly layer?: string;
  readonly current?: number;
  readonly total?: number;
}

export interface EnsureImageOptions {
  readonly signal: AbortSignal;
  readonly onProgress?: (event: PullProgress) => void;
  readonly auth?: RegistryAuth;
  readonly logger?: Logger;
  /** At most one byte-count line in the log per this many ms while a pull runs. Default 5000. */
  readonly progressLogIntervalMs?: number;
  /** Times the progress lines. Default: the system clock. */
  readonly clock?: Clock;
}

/** The image found or pulled, and whether it had to be pulled. */
export interface EnsuredImage extends BuildImage {
  readonly pulled: boolean;
}

interface PullMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Resolves the id and registry digests of image `ref`, pulling it first when the engine does
 * not have it. Progress goes to `onProgress` (every event) and to the logger: a line when a
 * layer's status changes (`Pulling fs layer`, `Downloading`, `Pull complete`...), and at most
 * one line every `progressLogIntervalMs` with the bytes downloaded so far, so a pull of a
 * large builder image shows it moving without logging every byte count.
 *
 * @example
 * ```ts
 * const { id, repoDigests, pulled } = await ensureImage(new Docker(), 'gentoo/stage3:latest', {
 *   signal, onProgress: (p) => console.log(p.layer, p.status, p.current, p.total),
 * });
 * ```
 */
export async function ensureImage(
  api: ImageApi,
  ref: string,
  options: EnsureImageOptions,
): Promise<EnsuredImage> {
  const { signal } = options;
  const inspect = async (): Promise<BuildImage> => {
    const info = await api.getImage(ref).inspect();
    return { id: info.Id, repoDigests: Object.freeze([...(info.RepoDigests ?? [])]) };
  };
  try {
    return { ...(await inspect()), pulled: false };
  } catch (err) {
    if (dockerStatusCode(err) !== 404) throw engineFailure(signal, `inspecting image ${ref}`, err);
  }

  options.logger?.info({ image: ref }, 'image missing: pulling');
  try {
    const stream = await api.pull(ref, {
      abortSignal: signal,
      ...(options.auth ? { auth: options.auth } : {}),
    });
    await followPull(ref, stream, options);
    const image = await inspect();
    options.logger?.info({ image: ref, id: image.id, repoDigests: image.repoDigests }, 'image pulled');
    return { ...image, pulled: true };
  } catch (err) {
    throw engineFailure(signal, `pulling image ${ref}`, err);
  }
}

// The pull answers a stream of JSON objects, one a line; a failure midway arrives as an
// object with `error`, on a response that was 200.
async function followPull(
  image: string,
  stream: NodeJS.ReadableStream,
  options: EnsureImageOptions,
): Promise<void> {
  const lastStatus = new Map<string, string>();
  const bytes = new Map<string, { current: number; total: number }>();
  const clock = options.clock ?? systemClock;
  const interval = options.progressLogIntervalMs ?? 5000;
  let lastBytesLine = clock.monotonic();
  let failure: string | undefined;
  const lines = new LineSplitter((line) => {
    if (line.trim() === '' || failure) return;
    let message: PullMessage;
    try {
      message = JSON.parse(line) as PullMessage;
    } catch {
      return;
    }
    if (message.error || message.errorDetail) {
      failure = message.errorDetail?.message ?? message.error ?? 'unknown error';
      return;
    }
    const event: PullProgress = {
      image,
      status: message.status ?? '',
      ...(message.id ? { layer: message.id } : {}),
      ...(message.progressDetail?.current !== undefined ? { current: message.progressDetail.current } : {}),
      ...(message.progressDetail?.total !== undefined ? { total: message.progressDetail.total } : {}),
    };
    options.onProgress?.(event);
    const key = event.layer ?? '';
    if (lastStatus.get(key) !== event.status) {
      lastStatus.set(key, event.status);
      options.logger?.info({ image, layer: event.layer }, `pull: ${event.status}`);
    }
    const downloaded = bytes.get(key);
    if (event.status === 'Download complete' && downloaded) downloaded.current = downloaded.total;
    if (event.status === 'Downloading' && event.current !== undefined && event.total !== undefined) {
      bytes.set(key, { current: event.current, total: event.total });
      const now = clock.monotonic();
      if (now - lastBytesLine >= interval) {
        lastBytesLine = now;
        let current = 0;
        let total = 0;
        for (const layer of bytes.values()) {
          current += layer.current;
          total += layer.total;
        }
        const mb = (n: number) => (n / 1e6).toFixed(1);
        options.logger?.info(
          { image, downloadedBytes: current, totalBytes: total },
          `pull: ${mb(current)} of ${mb(total)} MB downloaded (layers started so far)`,
        );
      }
    }
  });
  for await (const chunk of stream) lines.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  lines.end();
  if (failure) throw new BuildEngineError('image', `pulling image ${image}: ${failure}`);
}

function engineFailure(signal: AbortSignal, what: string, cause: unknown): Error {
  return signal.aborted ? new AbortedError({ cause: signal.reason }) : engineError('image', what, cause);
}
