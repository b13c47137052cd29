import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApiRequest, type ApiResponse, parseQuery } from '../api/api-request.ts';
import { PayloadTooLargeError } from '../errors.ts';

/**
 * Reads a node:http request into an `ApiRequest`: path and once-decoded query from the URL,
 * lower-cased headers, the body (only for methods that carry one, at most `maxBodyBytes`, else
 * `PayloadTooLargeError` without reading the rest).
 *
 * @example
 * ```ts
 * const request = await readApiRequest(req, { maxBodyBytes: 16_384, signal });
 * ```
 */
export async function readApiRequest(
  req: IncomingMessage,
  options: { readonly maxBodyBytes: number; readonly signal: AbortSignal },
): Promise<ApiRequest> {
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const method = req.method ?? 'GET';
  const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req, options.maxBodyBytes);
  return {
    method,
    path: queryAt === -1 ? url : url.slice(0, queryAt),
    query: parseQuery(queryAt === -1 ? '' : url.slice(queryAt + 1)),
    headers,
    body,
    signal: options.signal,
  };
}

/** Writes `response` with its exact body bytes and a Content-Length. */
export function sendApiResponse(res: ServerResponse, response: ApiResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(response.status, {
    ...response.headers,
    'content-length': String(Buffer.byteLength(response.body)),
  });
  res.end(response.body);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new PayloadTooLargeError(`the body exceeds ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > limit) throw new PayloadTooLargeError(`the body exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
