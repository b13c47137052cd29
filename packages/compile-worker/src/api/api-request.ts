import type { Principal } from './auth.ts';

/**
 * A request as the compile API sees it, whatever carried it (node:http or an API Gateway
 * proxy event): the adapters fill it, the API answers an `ApiResponse`.
 */
export interface ApiRequest {
  readonly method: string;
  /** The path as received (still percent-encoded), without the query string. */
  readonly path: string;
  /** Query parameters, decoded once (as URLSearchParams and API Gateway do), every value kept. */
  readonly query: ReadonlyMap<string, readonly string[]>;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | undefined;
  /** A caller the platform already authenticated (API Gateway IAM or an authorizer). */
  readonly platformPrincipal?: Principal;
  /** Aborts when the client goes away or the request's time is up. */
  readonly signal: AbortSignal;
}

/** What the API answers: the adapters send it as is. */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Query parameters of a raw query string, decoded once (`+` is a space, as in forms and as
 * API Gateway decodes them), every value of a repeated name kept in order.
 *
 * @example
 * ```ts
 * parseQuery('package=app-misc%2Franger&useflag=a+b').get('useflag'); // ['a b']
 * ```
 */
export function parseQuery(raw: string): Map<string, string[]> {
  const query = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(raw)) {
    const values = query.get(name);
    if (values) values.push(value);
    else query.set(name, [value]);
  }
  return query;
}

/**
 * A JSON response. `body` is serialised with `JSON.stringify` as given, so the key order of the
 * object literal is the order on the wire (the compat answers depend on it).
 */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): ApiResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}
