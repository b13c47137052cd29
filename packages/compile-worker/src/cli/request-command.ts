import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import type { Clock } from '@spotjobs/core';
import type { CompileApiClient } from './api-client.ts';
import type { ArtifactLink, BuildView } from './api-schemas.ts';
import { artifactFileName } from './artifact-file-name.ts';
import {
  CliUsageError,
  CompileApiError,
  InvalidServerResponseError,
  WaitTimeoutError,
} from './cli-errors.ts';
import type { RequestCommand } from './cli-options.ts';
import { type DownloadedFile, downloadArtifact } from './download.ts';
import { fetchLogTail } from './log-tail.ts';
import type { ProgressReporter } from './progress-reporter.ts';
import { withTransientRetries } from './transient-retry.ts';

export interface RequestDependencies {
  readonly api: CompileApiClient;
  readonly progress: ProgressReporter;
  readonly clock: Clock;
  /** How long transient failures (no answer, 502/503/504) are retried in a row (default 2 min). */
  readonly transientRetryMs?: number;
  /** For the download and the log; default the global `fetch`. */
  readonly fetch?: typeof fetch;
}

/** How a request ended, when it ended with the build concluded. */
export type RequestOutcome =
  | {
      readonly kind: 'ready';
      readonly build: BuildView;
      readonly created: boolean;
      /** The first answer was already ready: nothing was built for this request. */
      readonly cached: boolean;
      readonly link: ArtifactLink;
      /** Absent with `--no-download`. */
      readonly file: DownloadedFile | undefined;
    }
  | {
      readonly kind: 'failed';
      readonly build: BuildView;
      readonly created: boolean;
      /** A presigned link of the failed attempt's log, when there is one. */
      readonly logUrl: string | undefined;
      /** Its last lines, when the link could be read. */
      readonly logTail: readonly string[] | undefined;
    };

/**
 * `spotjobs-compile request`: submits the build, follows it until it is ready or failed, then
 * downloads and verifies the artifact.
 *
 * ```
 * check --output ─ POST /v1/builds ─┬ ready: "served from the cache"
 *                                   └ queued/building: GET /v1/builds/<id> every --poll-interval
 *                                                      until ready | failed | --timeout
 * ready  ─ GET …/artifact (presigned) ─ stream to a temp file, sha256 + size ─ rename
 * failed ─ GET …/log (presigned) ─ last lines
 * ```
 *
 * Transient failures are retried for `transientRetryMs` in a row; a submission is retried only
 * when the server answered "later" (an unreachable server at the start is more likely a wrong
 * `--url` than a blip). Throws the `CliError` that decides the exit code, or `AbortedError`.
 *
 * @example
 * ```ts
 * const outcome = await runRequest(command, { api, progress, clock: systemClock }, signal);
 * ```
 */
export async function runRequest(
  command: RequestCommand,
  deps: RequestDependencies,
  signal: AbortSignal,
): Promise<RequestOutcome> {
  const { api, progress, clock } = deps;
  if (command.download) await checkOutputDir(command.outputDir);
  if (command.apiKeySource === 'argv')
    progress.warn(
      '--api-key is visible to other users in ps and in shell history; prefer SPOTJOBS_COMPILE_API_KEY',
    );
  const retry = {
    signal,
    clock,
    budgetMs: deps.transientRetryMs ?? 120_000,
    delayMs: Math.max(command.pollIntervalMs, 1000),
    onRetry: (err: Error, delayMs: number) => progress.retrying(err, delayMs),
  };

  const submission = await withTransientRetries(() => api.submit(command.body, signal), {
    ...retry,
    retryable: (err) => err instanceof CompileApiError && err.transient,
  });
  let build = submission.build;
  progress.submitted(build, submission.created);
  progress.observe(build);
  const cached = build.state === 'ready';
  if (cached) progress.info('served from the cache');

  const deadline = clock.monotonic() + command.timeoutMs;
  while (build.state === 'queued' || build.state === 'building') {
    const remaining = deadline - clock.monotonic();
    if (remaining <= 0) throw new WaitTimeoutError(build.id, build.state, command.timeoutMs / 1000);
    await clock.sleep(Math.min(command.pollIntervalMs, remaining), signal);
    build = await withTransientRetries(() => api.getBuild(submission.build.id, signal), retry);
    progress.observe(build);
  }

  if (build.state === 'failed') {
    const log = build.links.log ? await readLog(api, build.id, deps.fetch, signal) : undefined;
    return { kind: 'failed', build, created: submission.created, logUrl: log?.url, logTail: log?.tail };
  }
  const recorded = build.artifact;
  if (!recorded) throw new InvalidServerResponseError(`build ${build.id} is ready without an artifact`);
  const link = await withTransientRetries(() => api.artifactLink(build.id, signal), retry);
  if (link.sha256 !== recorded.sha256 || link.size !== recorded.size)
    throw new InvalidServerResponseError(
      `the artifact link of build ${build.id} names sha256 ${link.sha256} (${link.size} bytes), ` +
        `the build record ${recorded.sha256} (${recorded.size} bytes)`,
    );
  if (!command.download)
    return { kind: 'ready', build, created: submission.created, cached, link, file: undefined };

  const fileName = artifactFileName(build, link.url);
  progress.downloading(fileName, recorded.size);
  const file = await downloadArtifact({
    url: link.url,
    dir: command.outputDir,
    fileName,
    expected: recorded,
    signal,
    onProgress: (received) => progress.downloaded(received),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  return { kind: 'ready', build, created: submission.created, cached, link, file };
}

/** The artifact must be writable where it is asked for, before anything is submitted. */
async function checkOutputDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new CliUsageError([`--output ${JSON.stringify(dir)} is not a directory`]);
  try {
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new CliUsageError([`--output ${JSON.stringify(dir)} is not writable`], { cause: err });
  }
}

/** The log's link and last lines; a log that cannot be read does not hide the failure itself. */
async function readLog(
  api: CompileApiClient,
  id: string,
  fetchImpl: typeof fetch | undefined,
  signal: AbortSignal,
): Promise<{ url: string; tail: string[] | undefined } | undefined> {
  let url: string;
  try {
    url = (await api.logLink(id, signal)).url;
  } catch (err) {
    if (signal.aborted) throw err;
    return undefined;
  }
  const tail = await fetchLogTail(url, { signal, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
  return { url, tail };
}
