import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Logger, requestSignal, silentLogger, startHttpServer } from '@spotjobs/core';
import type { BlobRequestHandler } from '@spotjobs/core/local';
import type { CompileApi } from '../api/compile-api.ts';
import { errorResponse } from '../api/error-responses.ts';
import { readApiRequest, sendApiResponse } from './node-request.ts';

/** What the server serves once it knows its own URL. */
export interface CompileServerRoutes {
  readonly api: CompileApi;
  /** Serves presigned blob URLs (`createBlobRequestHandler`), for the local backend. */
  readonly blobs?: BlobRequestHandler;
}

export interface CompileServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (a free port). */
  readonly port?: number;
  /** The base URL clients use (behind a proxy); default `http://<host>:<port>`. */
  readonly publicUrl?: string;
  /**
   * Called once the server listens, with the base URL: presigned local URLs embed it, so the
   * blob store can only be made once the port is known.
   */
  setup(baseUrl: string): CompileServerRoutes | Promise<CompileServerRoutes>;
  /** Largest request body, bytes (default 16 KiB: a build request is tiny). */
  readonly maxBodyBytes?: number;
  /** A request still unanswered after this is aborted (default 30 s). */
  readonly requestTimeoutMs?: number;
  readonly logger?: Logger;
}

export interface CompileServer {
  /** The base URL (`publicUrl`, or the bound address). */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, ends idle keep-alive connections, waits for requests in flight. */
  close(): Promise<void>;
}

/**
 * The compile API over node:http (the local deployable; on AWS the Lambda handler serves the same
 * `CompileApi`). Presigned blob URLs are served by the same server when `routes.blobs` is given.
 *
 * @example
 * ```ts
 * const server = await startCompileServer({ port: 8080, setup: (baseUrl) => ({ api: makeApi(baseUrl) }) });
 * console.log(`${server.url}/LATEST/package?package=app-misc/ranger&version=1.8.1&useflag=`);
 * ```
 */
export async function startCompileServer(options: CompileServerOptions): Promise<CompileServer> {
  const logger = options.logger ?? silentLogger;
  const maxBodyBytes = options.maxBodyBytes ?? 16_384;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  let routes: CompileServerRoutes | undefined;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const signal = requestSignal(res, { timeoutMs: requestTimeoutMs });
    try {
      if (!routes) {
        sendApiResponse(res, { status: 503, headers: { 'retry-after': '1' }, body: 'starting' });
        return;
      }
      if (routes.blobs && (await routes.blobs(req, res))) return;
      const request = await readApiRequest(req, { maxBodyBytes, signal });
      sendApiResponse(res, await routes.api.handle(request));
    } catch (err) {
      sendApiResponse(res, errorResponse(err, logger));
    }
  }

  const http = await startHttpServer(
    (req, res) => {
      void serve(req, res);
    },
    { port: options.port ?? 0, host: options.host ?? '127.0.0.1' },
  );
  const url = (options.publicUrl ?? http.url).replace(/\/+$/, '');
  try {
    routes = await options.setup(url);
  } catch (err) {
    await http.close();
    throw err;
  }
  logger.info({ url }, 'compile API listening');
  return { url, port: http.port, close: () => http.close() };
}
