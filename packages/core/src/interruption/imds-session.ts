import { AbortedError, BackendError } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';

export interface ImdsSessionOptions {
  /** Base URL without a trailing slash, e.g. `http://169.254.169.254`. */
  readonly endpoint: string;
  readonly tokenTtlSeconds: number;
  /** A token is replaced this long before it expires. */
  readonly refreshBeforeSeconds: number;
  readonly requestTimeoutMs: number;
  readonly clock: Clock;
  readonly fetch: typeof fetch;
}

interface Token {
  readonly headers: Readonly<Record<string, string>>;
  /** Refresh once either clock passes its mark (see `#fresh`). */
  readonly refreshAtWall: number;
  readonly refreshAtMonotonic: number;
}

/**
 * An IMDSv2 session: one token, fetched with `PUT /latest/api/token` and reused for every GET
 * until shortly before it expires; a 401 drops it and retries once with a fresh one. Each
 * request has its own timeout. Failures become `BackendError`s (`retryable`), an abort of the
 * caller's signal an `AbortedError`.
 *
 * ```
 *  PUT token (ttl)        GET … GET … GET …         refresh window   PUT token
 *  |<------------- ttl − refreshBefore ------------->|<-refreshBefore->| expiry
 * ```
 *
 * @example
 * ```ts
 * const session = new ImdsSession({ endpoint: 'http://169.254.169.254', tokenTtlSeconds: 21_600,
 *   refreshBeforeSeconds: 60, requestTimeoutMs: 1_000, clock: systemClock, fetch });
 * const body = await session.get('/latest/meta-data/instance-life-cycle', signal); // undefined on 404
 * ```
 */
export class ImdsSession {
  readonly #o: ImdsSessionOptions;
  readonly #putHeaders: Readonly<Record<string, string>>;
  #current: Token | undefined;
  #pending: Promise<Token> | undefined;

  constructor(options: ImdsSessionOptions) {
    this.#o = options;
    this.#putHeaders = { 'x-aws-ec2-metadata-token-ttl-seconds': String(options.tokenTtlSeconds) };
  }

  /** Makes sure a fresh token is at hand (fetching one if needed), so a poll reports a token failure once. */
  async ready(signal: AbortSignal): Promise<void> {
    await this.#freshToken(signal);
  }

  /** The body of `GET path`, or `undefined` when IMDS answers 404 (for events: "none"). */
  async get(path: string, signal: AbortSignal): Promise<string | undefined> {
    const token = await this.#freshToken(signal);
    let response = await this.#request('GET', path, token.headers, signal);
    if (response.status === 401) {
      // Expired early (a hibernated host, an IMDS restart) or revoked: one retry with a new token.
      if (this.#current === token) this.#current = undefined;
      response = await this.#request('GET', path, (await this.#freshToken(signal)).headers, signal);
    }
    if (response.status === 200) return response.body;
    if (response.status === 404) return undefined;
    throw new BackendError(`IMDS answered ${response.status} to GET ${path}`, retryable(response.status));
  }

  /** Forgets the token, e.g. after a resume; the next call fetches a new one. */
  dropToken(): void {
    this.#current = undefined;
  }

  /** The current token while fresh; else one new token request, shared by every concurrent caller. */
  async #freshToken(signal: AbortSignal): Promise<Token> {
    const current = this.#current;
    if (current && this.#fresh(current)) return current;
    if (this.#pending) return this.#pending;
    const pending = this.#fetchToken(signal);
    this.#pending = pending;
    try {
      const token = await pending;
      this.#current = token;
      return token;
    } finally {
      this.#pending = undefined;
    }
  }

  async #fetchToken(signal: AbortSignal): Promise<Token> {
    const { clock, tokenTtlSeconds, refreshBeforeSeconds } = this.#o;
    // Measured from before the request, so the token is never believed to live longer than it does.
    const wall = clock.now();
    const monotonic = clock.monotonic();
    const response = await this.#request('PUT', '/latest/api/token', this.#putHeaders, signal);
    if (response.status !== 200 || response.body.length === 0)
      throw new BackendError(
        `IMDS answered ${response.status} to PUT /latest/api/token`,
        response.status === 200 || retryable(response.status),
      );
    const lifeMs = (tokenTtlSeconds - refreshBeforeSeconds) * 1_000;
    return {
      headers: { 'x-aws-ec2-metadata-token': response.body },
      refreshAtWall: wall + lifeMs,
      refreshAtMonotonic: monotonic + lifeMs,
    };
  }

  // IMDS counts a token's life in real time. The monotonic clock stops while the host is
  // suspended and the wall clock can be stepped, so a token is stale as soon as either says so.
  #fresh(token: Token): boolean {
    const { clock } = this.#o;
    return clock.monotonic() < token.refreshAtMonotonic && clock.now() < token.refreshAtWall;
  }

  async #request(
    method: 'GET' | 'PUT',
    path: string,
    headers: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<{ status: number; body: string }> {
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
    const timeout = AbortSignal.timeout(this.#o.requestTimeoutMs);
    try {
      const response = await this.#o.fetch(this.#o.endpoint + path, {
        method,
        headers,
        signal: AbortSignal.any([signal, timeout]),
      });
      // Bodies are a few bytes; reading them to the end keeps the keep-alive connection reusable.
      return { status: response.status, body: await response.text() };
    } catch (err) {
      if (signal.aborted) throw new AbortedError({ cause: signal.reason });
      const why = timeout.aborted ? `timed out after ${this.#o.requestTimeoutMs} ms` : 'failed';
      throw new BackendError(`IMDS ${method} ${path} ${why}`, true, { cause: err });
    }
  }
}

// 403 (IMDS turned off, or the request was refused) and 400 do not heal by themselves.
function retryable(status: number): boolean {
  return status === 401 || status === 429 || status >= 500;
}
