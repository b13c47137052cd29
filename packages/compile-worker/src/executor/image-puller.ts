import { AbortedError, type Logger } from '@spotjobs/core';
import { BuildEngineError } from './build-engine-error.ts';
import { dockerStatusCode, engineError } from './docker-errors.ts';
import { LineSplitter } from './line-splitter.ts';

/** The part of dockerode that finds and pulls images (a fake in unit tests). */
export interface ImageApi {
  // dockerode's image inspect takes no abort signal (it would end up in the query string).
  getImage(name: string): { inspect(): Promise<{ Id: string }> };
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
}

interface PullMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Resolves the id of image `ref`, pulling it first when the engine does not have it. Progress
 * goes to `onProgress` (every event) and to the logger (each layer's status changes only, not
 * every byte count).
 *
 * @example
 * ```ts
 * const { id, pulled } = await ensureImage(new Docker(), 'gentoo/stage3:latest', {
 *   signal, onProgress: (p) => console.log(p.layer, p.status, p.current, p.total),
 * });
 * ```
 */
export async function ensureImage(
  api: ImageApi,
  ref: string,
  options: EnsureImageOptions,
): Promise<{ id: string; pulled: boolean }> {
  const { signal } = options;
  const inspect = async () => (await api.getImage(ref).inspect()).Id;
  try {
    return { id: await inspect(), pulled: false };
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
    const id = await inspect();
    options.logger?.info({ image: ref, id }, 'image pulled');
    return { id, pulled: true };
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
  });
  for await (const chunk of stream) lines.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  lines.end();
  if (failure) throw new BuildEngineError('image', `pulling image ${image}: ${failure}`);
}

function engineFailure(signal: AbortSignal, what: string, cause: unknown): Error {
  return signal.aborted ? new AbortedError({ cause: signal.reason }) : engineError('image', what, cause);
}
