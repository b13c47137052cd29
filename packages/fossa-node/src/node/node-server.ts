import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Logger, requestSignal, silentLogger, startHttpServer } from '@spotjobs/core';
import type { FossaNode } from './fossa-node.ts';
import { handleNodeApi, type NodeApiResponse } from './node-api.ts';

/** Serves other routes (the web pages) before the API; answers true when it handled the request. */
export type ExtraRequestHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface NodeServerOptions {
  readonly node: FossaNode;
  /** Default 0.0.0.0 (a Fargate task is reached on its private address). */
  readonly host?: string;
  /** Default 2345, Fossa's port; 0 picks a free one. */
  readonly port?: number;
  /** Largest request body, bytes (default 256 KiB: a task spec is at most 200 000 bytes of JSON). */
  readonly maxBodyBytes?: number;
  /** A request still unanswered after this is aborted (default 30 s). */
  readonly requestTimeoutMs?: number;
  readonly extra?: ExtraRequestHandler;
  readonly logger?: Logger;
}

export interface NodeServer {
  /** `http://<bound address>:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, ends idle keep-alive connections, waits for requests in flight. */
  close(): Promise<void>;
}

class BodyTooLargeError extends Error {}

const HOST_HEADER = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * Fossa's HTTP API (`handleNodeApi`) over node:http, with a body limit (413 without reading
 * the rest) and a per-request timeout. Anything unexpected is a 500 `{"msg":"Unknown error"}`
 * (logged), never a crash.
 *
 * @example
 * ```ts
 * const server = await startNodeServer({ node, port: 2345 });
 * node.address = `${hostname}:${server.port}`;
 * ```
 */
export async function startNodeServer(options: NodeServerOptions): Promise<NodeServer> {
  const logger = options.logger ?? silentLogger;
  const maxBodyBytes = options.maxBodyBytes ?? 262_144;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  let fallbackHost = '';

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const signal = requestSignal(res, { timeoutMs: requestTimeoutMs });
    try {
      if (options.extra && (await options.extra(req, res))) return;
      const url = req.url ?? '/';
      const queryAt = url.indexOf('?');
      const method = req.method ?? 'GET';
      let body: string | undefined;
      if (method !== 'GET' && method !== 'HEAD') {
        try {
          body = await readBody(req, maxBodyBytes);
        } catch (err) {
          if (!(err instanceof BodyTooLargeError)) throw err;
          send(
            res,
            { status: 413, body: { msg: 'Request Entity Too Large', error: { message: err.message } } },
            true,
          );
          return;
        }
      }
      const hostHeader = req.headers.host;
      const host = hostHeader && HOST_HEADER.test(hostHeader) ? hostHeader : fallbackHost;
      send(
        res,
        await handleNodeApi(options.node, {
          method,
          path: queryAt === -1 ? url : url.slice(0, queryAt),
          contentType: req.headers['content-type'],
          baseUrl: `http://${host}`,
          body,
          signal,
        }),
      );
    } catch (err) {
      logger.error({ err, url: req.url }, 'request failed');
      send(res, { status: 500, body: { msg: 'Unknown error' } });
    }
  }

  const http = await startHttpServer(
    (req, res) => {
      void serve(req, res);
    },
    { port: options.port ?? 2345, host: options.host ?? '0.0.0.0' },
  );
  fallbackHost = http.url.slice('http://'.length);
  logger.info({ url: http.url }, 'fossa node API listening');
  return { url: http.url, port: http.port, close: () => http.close() };
}

function send(res: ServerResponse, response: NodeApiResponse, closeConnection = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = `${JSON.stringify(response.body)}\n`;
  res.writeHead(response.status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...(closeConnection ? { connection: 'close' } : {}),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new BodyTooLargeError(`the body is larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > limit) throw new BodyTooLargeError(`the body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
