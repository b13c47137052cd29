import { ValidationError } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { InterruptionNotice, InterruptionSource, WatchOptions } from '../ports/interruption-source.ts';
import { integerProblem, throwIfProblems } from '../ports/validation.ts';
import { systemClock } from '../time/system-clock.ts';
import { deliverNotice } from './deliver-notice.ts';
import { instanceActionPath, parseInstanceAction, parseRebalance, rebalancePath } from './imds-payloads.ts';
import { ImdsSession } from './imds-session.ts';

export interface ImdsInterruptionSourceOptions {
  /** Default `http://169.254.169.254` (IPv6-only subnets: `http://[fd00:ec2::254]`). */
  readonly endpoint?: string;
  /** Time between polls, 100–60 000 ms; default 1 000 (AWS advises ≤ 5 s; NTH polls every 2 s). */
  readonly pollIntervalMs?: number;
  /** IMDSv2 token lifetime, 1–21 600 s; default 21 600 (6 h, the maximum). */
  readonly tokenTtlSeconds?: number;
  /** Replace the token this long before it expires; default min(60, ttl / 4), rounded down. */
  readonly refreshBeforeSeconds?: number;
  /** Timeout of each HTTP request, 1–60 000 ms; default 1 000. */
  readonly requestTimeoutMs?: number;
  readonly clock?: Clock;
  /** Default: Node's global `fetch` (undici, keep-alive). */
  readonly fetch?: typeof fetch;
}

/** Each IMDS path polled, with the last body and notice seen there (for deduplication). */
interface Watched {
  readonly path: string;
  readonly parse: (body: string, source: string) => InterruptionNotice;
  lastBody: string | undefined;
  lastKey: string | undefined;
}

/**
 * Polls EC2's instance metadata service (IMDSv2) for a spot interruption notice
 * (`spot/instance-action`: terminate, stop or hibernate, with a time) and a rebalance
 * recommendation (`events/recommendations/rebalance`).
 *
 * - One token serves every poll until shortly before it expires; a 401 drops it and retries
 *   once with a new one.
 * - 404 means "no event". A malformed body or an unknown action goes to `onError`, never
 *   passes for a notice, and is reported once per distinct body.
 * - The same payload is one notice however many polls see it; a changed action or time is a
 *   new one. Unreachable IMDS and timeouts go to `onError`, and polling goes on.
 *
 * Per poll: one GET per path (run together), plus a token PUT every few hours. Polls start on
 * a fixed rhythm, so a slow answer does not push the next poll back.
 *
 * @example
 * ```ts
 * const imds = new ImdsInterruptionSource({ pollIntervalMs: 1_000 });
 * void imds.watch({
 *   notify: (n) => logger.warn({ notice: n }, 'spot interruption notice'),
 *   onError: (err) => logger.warn({ err }, 'IMDS poll failed'),
 *   signal: shutdown.signal,
 * });
 * ```
 */
export class ImdsInterruptionSource implements InterruptionSource {
  readonly name = 'imds';
  readonly #session: ImdsSession;
  readonly #clock: Clock;
  readonly #pollIntervalMs: number;

  constructor(options: ImdsInterruptionSourceOptions = {}) {
    const pollIntervalMs = options.pollIntervalMs ?? 1_000;
    const tokenTtlSeconds = options.tokenTtlSeconds ?? 21_600;
    const refreshBeforeSeconds =
      options.refreshBeforeSeconds ?? Math.min(60, Math.floor(tokenTtlSeconds / 4));
    const requestTimeoutMs = options.requestTimeoutMs ?? 1_000;
    throwIfProblems('invalid IMDS interruption source options', [
      integerProblem('pollIntervalMs', pollIntervalMs, 100, 60_000),
      integerProblem('tokenTtlSeconds', tokenTtlSeconds, 1, 21_600),
      integerProblem('refreshBeforeSeconds', refreshBeforeSeconds, 0, Math.max(0, tokenTtlSeconds - 1)),
      integerProblem('requestTimeoutMs', requestTimeoutMs, 1, 60_000),
    ]);
    this.#clock = options.clock ?? systemClock;
    this.#pollIntervalMs = pollIntervalMs;
    const fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.#session = new ImdsSession({
      endpoint: normaliseEndpoint(options.endpoint ?? 'http://169.254.169.254'),
      tokenTtlSeconds,
      refreshBeforeSeconds,
      requestTimeoutMs,
      clock: this.#clock,
      fetch: fetchFn,
    });
  }

  async watch(options: WatchOptions): Promise<void> {
    const { signal } = options;
    const watched: Watched[] = [
      { path: instanceActionPath, parse: parseInstanceAction, lastBody: undefined, lastKey: undefined },
      { path: rebalancePath, parse: parseRebalance, lastBody: undefined, lastKey: undefined },
    ];
    while (!signal.aborted) {
      const started = this.#clock.monotonic();
      await this.#poll(watched, options);
      const wait = this.#pollIntervalMs - (this.#clock.monotonic() - started);
      try {
        await this.#clock.sleep(Math.max(0, wait), signal);
      } catch {
        return; // aborted
      }
    }
  }

  async #poll(watched: readonly Watched[], options: WatchOptions): Promise<void> {
    try {
      await this.#session.ready(options.signal);
    } catch (err) {
      if (!options.signal.aborted) options.onError(err as Error);
      return;
    }
    await Promise.all(watched.map((w) => this.#check(w, options)));
  }

  async #check(watched: Watched, options: WatchOptions): Promise<void> {
    let body: string | undefined;
    try {
      body = await this.#session.get(watched.path, options.signal);
    } catch (err) {
      if (!options.signal.aborted) options.onError(err as Error);
      return;
    }
    // Same bytes as last time (the common case while a notice stands): nothing to parse.
    if (body === undefined || body === watched.lastBody) return;
    watched.lastBody = body;
    let notice: InterruptionNotice;
    try {
      notice = watched.parse(body, this.name);
    } catch (err) {
      options.onError(err as Error);
      return;
    }
    const key = `${notice.kind}@${notice.at}`;
    if (key === watched.lastKey) return;
    watched.lastKey = key;
    void deliverNotice(options, notice);
  }
}

function normaliseEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (err) {
    throw new ValidationError(
      'invalid IMDS interruption source options',
      [`endpoint is not a URL: ${endpoint}`],
      {
        cause: err,
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ValidationError('invalid IMDS interruption source options', [
      `endpoint must be http(s): ${endpoint}`,
    ]);
  return url.origin + url.pathname.replace(/\/+$/, '');
}
