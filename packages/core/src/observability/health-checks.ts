import type { ObservableRunner } from './runner-metrics.ts';

/** `true`/`false`, or a verdict with a short detail shown in the `/readyz` body. */
export type HealthCheckResult = boolean | { readonly ok: boolean; readonly detail?: string };

/**
 * A readiness check. It gets a signal that aborts at its timeout or when the server
 * closes; a throw, a rejection or a timeout counts as failing.
 *
 * @example
 * ```ts
 * const queueReachable: HealthCheck = async (signal) => (await queue.depth(signal), true);
 * ```
 */
export type HealthCheck = (signal: AbortSignal) => HealthCheckResult | Promise<HealthCheckResult>;

export interface CheckVerdict {
  readonly ok: boolean;
  readonly detail?: string;
}

/** Runs every check at once, each bounded by `timeoutMs`; answers a verdict per name. */
export async function runChecks(
  checks: Readonly<Record<string, HealthCheck>>,
  timeoutMs: number,
  closing: AbortSignal,
): Promise<Record<string, CheckVerdict>> {
  const entries = await Promise.all(
    Object.entries(checks).map(
      async ([name, check]) => [name, await runOne(check, timeoutMs, closing)] as const,
    ),
  );
  return Object.fromEntries(entries);
}

async function runOne(check: HealthCheck, timeoutMs: number, closing: AbortSignal): Promise<CheckVerdict> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  const onClose = () => controller.abort(new Error('health server closing'));
  closing.addEventListener('abort', onClose, { once: true });
  if (closing.aborted) onClose();
  // A check that ignores its signal must not hold the probe: the race answers at the timeout.
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  aborted.catch(() => {});
  try {
    const result = await Promise.race([check(controller.signal), aborted]);
    return typeof result === 'boolean' ? { ok: result } : { ok: result.ok, detail: result.detail };
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
    closing.removeEventListener('abort', onClose);
    controller.abort();
  }
}

/**
 * A readiness check that passes only while the runner is RUNNING, so `/readyz` turns 503
 * as soon as a stop begins (STOPPING, DRAINING) and stays so.
 *
 * @example
 * ```ts
 * await startHealthServer({ port: 0, checks: { runner: runnerRunningCheck(runner) } });
 * ```
 */
export function runnerRunningCheck(runner: Pick<ObservableRunner, 'stats'>): HealthCheck {
  return () => {
    const { state } = runner.stats();
    return { ok: state === 'RUNNING', detail: state };
  };
}
