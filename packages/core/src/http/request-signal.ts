// The AbortSignal a node:http handler passes to its I/O: a request nobody waits for any more,
// or one that took too long, stops its work instead of finishing it for nothing.
import type { ServerResponse } from 'node:http';

export interface RequestSignalOptions {
  /** Aborts after this long (the request's deadline). */
  readonly timeoutMs?: number;
  /** Also aborts with this one (e.g. the server's shutdown). */
  readonly signal?: AbortSignal;
}

/**
 * An AbortSignal for one request: aborted when the client goes away before the answer is sent,
 * after `timeoutMs`, or with `signal`.
 *
 * @example
 * ```ts
 * const signal = requestSignal(res, { timeoutMs: 30_000 });
 * const item = await table.get(key, { signal });
 * ```
 */
export function requestSignal(res: ServerResponse, options: RequestSignalOptions = {}): AbortSignal {
  const gone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) gone.abort(new Error('client went away'));
  });
  const signals = [gone.signal];
  if (options.timeoutMs !== undefined) signals.push(AbortSignal.timeout(options.timeoutMs));
  if (options.signal) signals.push(options.signal);
  return signals.length === 1 ? gone.signal : AbortSignal.any(signals);
}
