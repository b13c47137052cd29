import type { Clock } from '@spotjobs/core';
import type { CompileApiClient } from './api-client.ts';
import type { BuildView } from './api-schemas.ts';
import type { StatusCommand } from './cli-options.ts';
import { withTransientRetries } from './transient-retry.ts';

/**
 * `spotjobs-compile status <build-id>`: one read of the build (transient failures retried for a
 * few seconds), for a build a `request` stopped waiting for.
 *
 * @example
 * ```ts
 * const build = await runStatus(command, { api, clock: systemClock }, signal);
 * ```
 */
export function runStatus(
  command: StatusCommand,
  deps: { readonly api: CompileApiClient; readonly clock: Clock },
  signal: AbortSignal,
): Promise<BuildView> {
  return withTransientRetries(() => deps.api.getBuild(command.buildId, signal), {
    signal,
    clock: deps.clock,
    budgetMs: 10_000,
    delayMs: 1000,
  });
}
