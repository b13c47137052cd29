import { AbortedError } from '@spotjobs/core';
import type { z } from 'zod';
import {
  type ArtifactLink,
  apiErrorBodySchema,
  artifactLinkSchema,
  type BuildView,
  buildViewSchema,
  type LogLink,
  logLinkSchema,
} from './api-schemas.ts';
import { CompileApiError, InvalidServerResponseError, ServerUnreachableError } from './cli-errors.ts';
import { printable } from './terminal-text.ts';

export interface CompileApiClientOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:8080` or `https://<api>.execute-api.<region>.amazonaws.com/LATEST`. */
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer <key>`; never printed. */
  readonly apiKey?: string | undefined;
  /** One call without an answer for this long fails with `ServerUnreachableError` (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Injected in tests; default the global `fetch`. */
  readonly fetch?: typeof fetch;
}

/** The answer to a submission: the build, and whether this request created (or re-admitted) it. */
export interface Submission {
  readonly created: boolean;
  readonly build: BuildView;
}

// API answers are small JSON objects; anything bigger is not the API talking.
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * A small typed client of the clean compile API (`/v1/builds`). Every call takes an
 * `AbortSignal` and has its own timeout; answers are checked against the API's shapes, so a
 * broken server or a proxy's error page gives a clear `InvalidServerResponseError` instead of
 * `undefined` somewhere later. Error answers become `CompileApiError` with the API's code,
 * message (every refused field) and status. Redirects are not followed: the key would go with
 * them.
 *
 * @example
 * ```ts
 * const api = new CompileApiClient({ baseUrl: 'http://127.0.0.1:8080', apiKey });
 * const { build } = await api.submit({ atom: 'app-misc/ranger-1.8.1', use: '-test doc' }, signal);
 * const link = await api.artifactLink(build.id, signal);
 * ```
 */
export class CompileApiClient {
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: CompileApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#fetch = options.fetch ?? fetch;
  }

  /** `POST /v1/builds`. */
  async submit(
    body: { readonly atom: string; readonly use: string },
    signal: AbortSignal,
  ): Promise<Submission> {
    const answer = await this.#call('POST', '/v1/builds', buildViewSchema, signal, JSON.stringify(body));
    return { created: answer.status === 201, build: answer.value };
  }

  /** `GET /v1/builds/<id>`. */
  async getBuild(id: string, signal: AbortSignal): Promise<BuildView> {
    return (await this.#call('GET', `/v1/builds/${encodeURIComponent(id)}`, buildViewSchema, signal)).value;
  }

  /** `GET /v1/builds/<id>/artifact`: a presigned download link (409 `NOT_READY` until ready). */
  async artifactLink(id: string, signal: AbortSignal): Promise<ArtifactLink> {
    return (
      await this.#call('GET', `/v1/builds/${encodeURIComponent(id)}/artifact`, artifactLinkSchema, signal)
    ).value;
  }

  /** `GET /v1/builds/<id>/log`: a presigned link of the latest attempt's log (409 before any log). */
  async logLink(id: string, signal: AbortSignal): Promise<LogLink> {
    return (await this.#call('GET', `/v1/builds/${encodeURIComponent(id)}/log`, logLinkSchema, signal)).value;
  }

  async #call<T>(
    method: 'GET' | 'POST',
    path: string,
    schema: z.ZodType<T>,
    signal: AbortSignal,
    body?: string,
  ): Promise<{ status: number; value: T }> {
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'spotjobs-compile-cli',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#apiKey !== undefined) headers.authorization = `Bearer ${this.#apiKey}`;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(url, { method, headers, body, signal: combined, redirect: 'manual' });
      text = await readBounded(response, MAX_ANSWER_BYTES);
    } catch (err) {
      if (signal.aborted) throw new AbortedError({ cause: signal.reason });
      if (timeout.aborted)
        throw new ServerUnreachableError(`${method} ${url}: no answer within ${this.#timeoutMs / 1000} s`, {
          cause: err,
        });
      if (err instanceof InvalidServerResponseError) throw err;
      throw new ServerUnreachableError(`${method} ${url}: ${describeFetchError(err)}`, { cause: err });
    }
    if (response.status >= 300 && response.status < 400) {
      throw new InvalidServerResponseError(
        `${method} ${url} answered ${response.status}, a redirect to ${printable(response.headers.get('location') ?? '(nowhere)')}: use the final URL as --url`,
      );
    }
    if (!response.ok) throw apiError(method, url, response, text);
    const expected = method === 'POST' ? [200, 201] : [200];
    if (!expected.includes(response.status))
      throw new InvalidServerResponseError(
        `${method} ${url} answered ${response.status}, not ${expected.join(' or ')}`,
      );
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new InvalidServerResponseError(
        `${method} ${url} answered ${response.status} without JSON`,
        [snippet(text)],
        {
          cause: err,
        },
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new InvalidServerResponseError(
        `${method} ${url} answered an unexpected shape`,
        parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
      );
    }
    return { status: response.status, value: parsed.data };
  }
}

/** The answer's body as text, refusing one longer than `maxBytes` (read stops there). */
async function readBounded(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw new InvalidServerResponseError(`the answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function apiError(method: string, url: string, response: Response, text: string): CompileApiError {
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = apiErrorBodySchema.safeParse(json);
  if (parsed.success) {
    const { code, message, field } = parsed.data.error;
    return new CompileApiError({ status: response.status, code, message, field, retryAfterSeconds });
  }
  // Not the API's error shape: a proxy, a load balancer or a gateway answered.
  const reason = text.trim() === '' ? response.statusText : snippet(text);
  return new CompileApiError({
    status: response.status,
    code: `HTTP_${response.status}`,
    message: `${method} ${url} answered ${response.status}: ${reason}`,
    retryAfterSeconds,
  });
}

function snippet(text: string): string {
  const oneLine = printable(text.replace(/\s+/g, ' ').trim());
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}

/** fetch's `TypeError: fetch failed` hides the reason in `cause` (ECONNREFUSED, ENOTFOUND …). */
export function describeFetchError(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code} (${cause.message})` : cause.message;
  }
  return err instanceof Error ? err.message : String(err);
}
