// The "web" of Web-Queue-Worker: it accepts work and answers status, never processes images.
//
//   POST /images (PNG body) → 202 {id, status:"queued"}   stores the original, writes the
//                                                            status item, enqueues the job
//   GET /images/:id         → 200 {id, status, width, height, error?, downloadUrl?}
//   GET|PUT /blobs/...      → presigned downloads (local family only; S3 serves its own)
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AbortedError, BackendError, isAbortError, type Logger } from '@spotjobs/core';
import type { DownloadLinks, ImageBackend } from './backend.ts';
import { type ImageRecord, imageKey, originalBlobKey } from './image-records.ts';
import { PngFormatError, readPngHeader } from './png.ts';

export interface WebOptions {
  readonly backend: Pick<ImageBackend, 'queue' | 'table' | 'blobs' | 'linksFor'>;
  readonly host: string;
  /** 0 picks a free port (see `WebServer.url`). */
  readonly port: number;
  /** Origin of download links; default the bound address. */
  readonly publicUrl?: string | undefined;
  readonly maxUploadBytes: number;
  readonly maxDimension: number;
  readonly logger: Logger;
  /** Lifetime of download links; default 900 s. */
  readonly downloadTtlSeconds?: number;
}

export interface WebServer {
  /** `http://host:port` as bound. */
  readonly url: string;
  /** Stops accepting, lets requests in progress finish (at most 5 s). Idempotent. */
  close(): Promise<void>;
}

/** An answer with a 4xx/5xx status and a stable `code` for clients to match on. */
class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Starts the front end on node:http.
 *
 * @example
 * ```ts
 * const web = await startWeb({ backend, host: '127.0.0.1', port: 8080, maxUploadBytes: 8 << 20, maxDimension: 4096, logger });
 * // curl --data-binary @photo.png -H 'Content-Type: image/png' http://127.0.0.1:8080/images
 * await web.close();
 * ```
 */
export async function startWeb(options: WebOptions): Promise<WebServer> {
  const server = createServer();
  server.requestTimeout = 60_000; // a slow upload cannot hold a socket for ever
  server.listen({ port: options.port, host: options.host });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  // Download links need the address, known only now; no request can be parsed before this
  // continuation runs, so attaching the handler here loses none.
  const links = options.backend.linksFor(options.publicUrl ?? url);
  server.on('request', (req, res) => void handle(req, res, options, links));

  let closed: Promise<void> | undefined;
  return {
    url,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
      return closed;
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, o: WebOptions, links: DownloadLinks) {
  // Aborted when the client goes away, so no upload or lookup outlives its request.
  const request = new AbortController();
  res.once('close', () => request.abort());
  const signal = request.signal;
  try {
    if (links.serve && (await links.serve(req, res))) return;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/images') {
      if (req.method !== 'POST') throw methodNotAllowed(res, 'POST');
      return await upload(req, res, o, signal);
    }
    const match = /^\/images\/([^/]+)$/.exec(path);
    if (match) {
      if (req.method !== 'GET') throw methodNotAllowed(res, 'GET');
      return await status(match[1] ?? '', res, o, links, signal); // ids are UUIDs: nothing to decode
    }
    throw new HttpError(404, 'not_found', `no route for ${req.method} ${path}`);
  } catch (err) {
    if (err instanceof HttpError)
      return sendJson(res, err.status, { error: { code: err.code, message: err.message } });
    if (isAbortError(err) && signal.aborted) return; // the client left
    o.logger.error({ err, method: req.method, url: req.url }, 'request failed');
    const unavailable = err instanceof BackendError && err.retryable;
    sendJson(res, unavailable ? 503 : 500, {
      error: unavailable
        ? { code: 'unavailable', message: 'storage is unavailable, try again' }
        : { code: 'internal', message: 'internal error' },
    });
  }
}

async function upload(req: IncomingMessage, res: ServerResponse, o: WebOptions, signal: AbortSignal) {
  const body = await readBody(req, o.maxUploadBytes);
  let header: { width: number; height: number };
  try {
    header = readPngHeader(body);
  } catch (err) {
    if (!(err instanceof PngFormatError)) throw err;
    throw err.code === 'NOT_PNG'
      ? new HttpError(415, 'not_png', err.message)
      : new HttpError(400, 'invalid_png', err.message);
  }
  if (header.width > o.maxDimension || header.height > o.maxDimension) {
    throw new HttpError(
      422,
      'image_too_large',
      `image is ${header.width}x${header.height}; at most ${o.maxDimension}x${o.maxDimension} is accepted`,
    );
  }

  const id = randomUUID();
  const { blobs, table, queue } = o.backend;
  await blobs.put(originalBlobKey(id), body, { contentType: 'image/png', ifAbsent: true }, signal);
  const record: ImageRecord = {
    status: 'queued',
    width: header.width,
    height: header.height,
    original: originalBlobKey(id),
    result: null,
    error: null,
    updatedAt: new Date().toISOString(),
  };
  // ifAbsent: an id is written once, even if a UUID ever collided.
  const created = await table.put(imageKey(id), record, { ifAbsent: true }, signal);
  try {
    await queue.send([{ body: JSON.stringify({ type: 'greyscale', id }) }], signal);
  } catch (err) {
    // Not enqueued: say so in the status instead of leaving it `queued` for ever.
    const failed = { ...record, status: 'failed' as const, error: 'could not be queued' };
    await table.put(imageKey(id), failed, { ifVersion: created.version }).catch(() => {});
    throw err;
  }
  o.logger.info({ id, width: header.width, height: header.height }, 'image queued');
  sendJson(res, 202, { id, status: 'queued' }, { Location: `/images/${id}` });
}

async function status(
  id: string,
  res: ServerResponse,
  o: WebOptions,
  links: DownloadLinks,
  signal: AbortSignal,
) {
  const item = UUID.test(id) ? await o.backend.table.get<ImageRecord>(imageKey(id), signal) : undefined;
  if (!item) throw new HttpError(404, 'not_found', `no image with id ${JSON.stringify(id)}`);
  const { status, width, height, error, result } = item.data;
  const downloadUrl =
    status === 'done' && result
      ? await links.blobs.presign(
          result,
          { method: 'GET', expiresInSeconds: o.downloadTtlSeconds ?? 900 },
          signal,
        )
      : undefined;
  sendJson(res, 200, {
    id,
    status,
    width,
    height,
    ...(error ? { error } : {}),
    ...(downloadUrl ? { downloadUrl } : {}),
  });
}

/** Reads the whole body, refusing more than `limit` bytes with 413 (the rest is drained, not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = () => new HttpError(413, 'body_too_large', `the body is larger than ${limit} bytes`);
  if (declared > limit) {
    req.resume(); // discard, so the 413 reaches a client still sending
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    // A client that leaves mid-upload; after 'end' this is a no-op.
    req.once('close', () => reject(new AbortedError()));
  });
}

function methodNotAllowed(res: ServerResponse, allow: string): HttpError {
  res.setHeader('Allow', allow);
  return new HttpError(405, 'method_not_allowed', `use ${allow}`);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return void res.destroy();
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}
