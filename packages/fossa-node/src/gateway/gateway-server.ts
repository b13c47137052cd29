import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AbortedError, type Clock, type Logger, throwIfAborted } from '@spotjobs/core';
import { sendText } from '../web/page-layout.ts';
import type { ClusterReadModel } from '../web/read-model.ts';
import { AuthFailureLimiter, type AuthFailureLimiterOptions } from './auth-failure-limiter.ts';
import { BasicAuthVerifier, WWW_AUTHENTICATE } from './basic-auth.ts';
import type { EcsTaskLister } from './ecs-task-lister.ts';
import { createGatewayPages } from './gateway-pages.ts';

export interface GatewayServerOptions {
  /** 0 picks a free port (see `url`). */
  readonly port: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Every page needs these (HTTP Basic); the password at least 8 characters. */
  readonly credentials: { readonly username: string; readonly password: string };
  readonly readModel: ClusterReadModel;
  /** The ECS task listing, on AWS. */
  readonly ecs?: EcsTaskLister;
  /** Failed logins per client before it is refused for a while (429). */
  readonly authFailures?: Omit<AuthFailureLimiterOptions, 'clock'>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Closes the server when aborted. */
  readonly signal?: AbortSignal;
}

export interface GatewayServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  /** Stops listening, aborts reads in flight and drops open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * The cluster view: its own small HTTP server, every path behind HTTP Basic auth checked in
 * constant time. No credentials or wrong ones → 401 with `WWW-Authenticate` (the browser
 * prompts); too many failures from one client → 429 with `Retry-After`. Behind it, the gateway
 * pages (`/`, `/node/<id>`, `/task/<id>`) read from a `ClusterReadModel` and, on AWS, the ECS
 * task listing. It serves pages only: tasks are submitted to the nodes' API.
 *
 * @example
 * ```ts
 * const gateway = await startGatewayServer({ port: 8080, host: '0.0.0.0', credentials, readModel, ecs, logger });
 * logger.info({ url: gateway.url }, 'gateway listening');
 * ```
 */
export async function startGatewayServer(options: GatewayServerOptions): Promise<GatewayServer> {
  throwIfAborted(options.signal);
  const auth = new BasicAuthVerifier(options.credentials);
  const limiter = new AuthFailureLimiter({
    ...options.authFailures,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const closing = new AbortController();
  const pages = createGatewayPages({
    readModel: options.readModel,
    ...(options.ecs ? { ecs: options.ecs } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    signal: closing.signal,
  });

  const server = createServer((req, res) => {
    const client = req.socket.remoteAddress ?? 'unknown';
    const waitMs = limiter.retryAfterMs(client);
    if (waitMs > 0) {
      res.setHeader('retry-after', String(Math.ceil(waitMs / 1000)));
      sendText(req, res, 429, 'Too many failed logins; try again later');
      return;
    }
    const outcome = auth.check(req.headers.authorization);
    if (outcome !== 'accepted') {
      if (outcome === 'rejected') {
        limiter.recordFailure(client);
        options.logger?.warn({ client }, 'gateway login failed');
      }
      res.setHeader('www-authenticate', WWW_AUTHENTICATE);
      sendText(req, res, 401, 'Authentication required');
      return;
    }
    if (!pages(req, res)) sendText(req, res, 404, 'Not found');
  });
  // Pages answer in well under a second; an idle or slow client must not hold a socket.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      closing.abort(new AbortedError());
      options.signal?.removeEventListener('abort', onAbort);
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  const onAbort = () => void close();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${urlHost}:${port}`, close };
}
