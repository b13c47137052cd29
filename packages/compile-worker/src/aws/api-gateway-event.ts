import type { ApiRequest, ApiResponse } from '../api/api-request.ts';
import type { Principal } from '../api/auth.ts';

/**
 * The parts of an API Gateway REST API (v1) Lambda proxy event the compile API reads. Query
 * values arrive decoded once (API Gateway turns `+` into a space, as URLSearchParams does), so
 * both transports hand the API the same values.
 */
export interface ApiGatewayProxyEvent {
  readonly httpMethod: string;
  /** The resource path, without the stage (`/package`, `/v1/builds/…`). */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly multiValueHeaders?: Readonly<Record<string, readonly string[] | undefined>> | null;
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly multiValueQueryStringParameters?: Readonly<Record<string, readonly string[] | undefined>> | null;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: {
    readonly stage?: string;
    readonly requestId?: string;
    readonly identity?: {
      /** Set when the method uses AWS_IAM authorization: the signer's ARN. */
      readonly userArn?: string | null;
      readonly sourceIp?: string | null;
    } | null;
    /** Lambda authorizer: `principalId`; Cognito user pool authorizer: `claims`. */
    readonly authorizer?: {
      readonly principalId?: unknown;
      readonly claims?: unknown;
    } | null;
  } | null;
}

/** What a Lambda proxy integration returns to API Gateway. */
export interface ApiGatewayProxyResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly isBase64Encoded: false;
}

/**
 * The caller API Gateway itself authenticated: an IAM signer (`identity.userArn`), a Lambda
 * authorizer's `principalId`, or a Cognito authorizer's `claims.sub`. Only API Gateway writes
 * `requestContext`, so a client cannot forge it (whoever may invoke the function directly is
 * already trusted by IAM). API Gateway puts `authorizer: { claims: null, scopes: null }` into
 * events of methods without an authorizer, so only a non-empty principal counts.
 *
 * @example
 * ```ts
 * platformPrincipalOf(event); // { kind: 'iam', id: 'arn:aws:iam::123456789012:user/ci' }
 * ```
 */
export function platformPrincipalOf(event: ApiGatewayProxyEvent): Principal | undefined {
  const context = event.requestContext;
  const arn = context?.identity?.userArn;
  if (typeof arn === 'string' && arn !== '') return { kind: 'iam', id: arn };
  const authorizer = context?.authorizer;
  if (typeof authorizer?.principalId === 'string' && authorizer.principalId !== '')
    return { kind: 'authorizer', id: authorizer.principalId };
  const claims = authorizer?.claims;
  if (typeof claims === 'object' && claims !== null) {
    const sub = (claims as Record<string, unknown>).sub;
    if (typeof sub === 'string' && sub !== '') return { kind: 'authorizer', id: `cognito:${sub}` };
  }
  return undefined;
}

/**
 * Turns a proxy event into an `ApiRequest`: multi-value query and headers preferred (every
 * repeated value kept), header names lower-cased, a base64 body decoded.
 *
 * @example
 * ```ts
 * const response = await api.handle(eventToApiRequest(event, AbortSignal.timeout(9_000)));
 * ```
 */
export function eventToApiRequest(event: ApiGatewayProxyEvent, signal: AbortSignal): ApiRequest {
  const query = new Map<string, string[]>();
  if (event.multiValueQueryStringParameters) {
    for (const [name, values] of Object.entries(event.multiValueQueryStringParameters))
      if (values) query.set(name, [...values]);
  } else if (event.queryStringParameters) {
    for (const [name, value] of Object.entries(event.queryStringParameters))
      if (value !== undefined) query.set(name, [value]);
  }
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {}))
    if (values) headers[name.toLowerCase()] = values.join(', ');
  const body =
    event.body === undefined || event.body === null
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  const principal = platformPrincipalOf(event);
  return {
    method: event.httpMethod,
    path: event.path,
    query,
    headers,
    body,
    signal,
    ...(principal ? { platformPrincipal: principal } : {}),
  };
}

/** An `ApiResponse` as a proxy integration result (text body, never base64). */
export function toProxyResult(response: ApiResponse): ApiGatewayProxyResult {
  return {
    statusCode: response.status,
    headers: { ...response.headers },
    body: response.body,
    isBase64Encoded: false,
  };
}
