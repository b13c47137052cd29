import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { ConditionFailedError, NotFoundError, ValidationError } from '../../errors.ts';
import { blobKeyProblem } from '../../ports/blob-store.ts';
import { assertNamespace } from './blob-input.ts';
import { FsBlobStore } from './fs-blob-store.ts';
import type { LocalStore } from './local-store.ts';

/** A node:http handler that answers `true` when the request was its to answer. */
export type BlobRequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** Options of `createBlobRequestHandler`. */
export interface BlobRequestHandlerOptions {
  /**
   * The URL path the handler is mounted under when given a `LocalStore` (default ``, the root).
   * Given an `FsBlobStore`, the path of its `baseUrl` is used.
   */
  readonly pathPrefix?: string;
}

/**
 * Serves the presigned URLs of `FsBlobStore.presign` over node:http: `GET` streams the object,
 * `PUT` stores the request body atomically (with its `Content-Type`). Answers 403 for a missing,
 * wrong or expired signature (checked in constant time), 404 for a missing object, 400 for an
 * invalid key. Resolves `false`, touching nothing, for a path outside its mount, so a daemon can
 * chain it with its own routes.
 *
 * Given an `FsBlobStore`, it serves that store's namespace under the path of its `baseUrl`; given
 * a `LocalStore`, it serves every namespace of the data dir under `pathPrefix`.
 *
 * @example
 * ```ts
 * const blobs = store.blobs({ baseUrl: 'http://127.0.0.1:8080/blobs' });
 * const serveBlobs = createBlobRequestHandler(blobs);
 * http.createServer(async (req, res) => {
 *   if (!(await serveBlobs(req, res))) res.writeHead(404).end();
 * }).listen(8080, '127.0.0.1');
 * ```
 */
export function createBlobRequestHandler(
  target: FsBlobStore | LocalStore,
  options: BlobRequestHandlerOptions = {},
): BlobRequestHandler {
  const single = target instanceof FsBlobStore ? target : undefined;
  const prefix = trimSlashes(single?.baseUrl ? new URL(single.baseUrl).pathname : (options.pathPrefix ?? ''));
  // Made per request (no I/O, cheap) rather than cached: a cache keyed by whatever namespace a
  // URL names would grow without bound.
  const storeFor = (namespace: string): FsBlobStore | undefined => {
    if (single) return namespace === single.namespace ? single : undefined;
    return (target as LocalStore).blobs({ namespace });
  };

  return async (req, res) => {
    const url = req.url ?? '';
    const queryAt = url.indexOf('?');
    const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
    const rawQuery = queryAt === -1 ? '' : url.slice(queryAt + 1);
    // Segments are split before decoding, so `%2F` cannot forge a separator and `..` stays
    // visible to the key check (a WHATWG URL parser would have resolved it away).
    const segments = rawPath.split('/').slice(1);
    const prefixSegments = prefix === '' ? [] : prefix.split('/');
    if (prefixSegments.some((segment, i) => segments[i] !== segment)) return false;
    const [namespaceSegment, ...keySegments] = segments.slice(prefixSegments.length);
    let namespace: string;
    let key: string;
    try {
      namespace = decodeURIComponent(namespaceSegment ?? '');
      key = keySegments.map((segment) => decodeURIComponent(segment)).join('/');
      assertNamespace(namespace);
    } catch {
      if (single) return false;
      return reply(res, 400, 'invalid path');
    }
    let store: FsBlobStore | undefined;
    try {
      store = storeFor(namespace);
    } catch {
      return reply(res, 503, 'store closed');
    }
    if (!store) return false;

    try {
      if (req.method !== 'GET' && req.method !== 'PUT') {
        res.setHeader('Allow', 'GET, PUT');
        return reply(res, 405, 'method not allowed');
      }
      const problem = blobKeyProblem(key);
      if (problem) return reply(res, 400, `invalid key: ${problem}`);
      const query = new URLSearchParams(rawQuery);
      const check =
        query.get('method') === req.method
          ? store.checkPresigned(req.method, key, query.get('expires') ?? '', query.get('sig') ?? '')
          : 'invalid';
      if (check !== 'valid')
        return reply(res, 403, check === 'expired' ? 'signature expired' : 'bad signature');
      const abort = new AbortController();
      res.once('close', () => abort.abort());
      if (req.method === 'GET') {
        const object = await store.get(key, abort.signal);
        res.writeHead(200, {
          'Content-Length': String(object.info.size),
          'Content-Type': object.info.contentType ?? 'application/octet-stream',
          ETag: `"${object.info.etag}"`,
          'Last-Modified': object.info.lastModified.toUTCString(),
        });
        await pipeline(object.body, res);
        return true;
      }
      const contentType = req.headers['content-type'];
      const info = await store.put(key, req, contentType ? { contentType } : {}, abort.signal);
      res.writeHead(200, { ETag: `"${info.etag}"`, 'Content-Length': '0' }).end();
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return reply(res, 404, 'not found');
      if (err instanceof ValidationError) return reply(res, 400, err.message);
      if (err instanceof ConditionFailedError) return reply(res, 412, 'precondition failed');
      if (!res.headersSent) return reply(res, 500, 'internal error');
      res.destroy();
      return true;
    }
  };
}

function reply(res: ServerResponse, status: number, message: string): true {
  if (!res.headersSent) {
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(message),
    });
  }
  res.end(message);
  return true;
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}
