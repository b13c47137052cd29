import type { IncomingMessage, ServerResponse } from 'node:http';
import { AbortedError, BackendError, throwIfAborted } from '../errors.ts';
import { type StartedHttpServer, startHttpServer } from '../http/start-http-server.ts';
import type { Logger } from '../ports/logger.ts';
import { EventLoopLag } from './event-loop-lag.ts';
import { type HealthCheck, runChecks } from './health-checks.ts';
import type { MetricsRegistry } from './metrics.ts';
import { prometheusContentType } from './prometheus-text.ts';

export interface HealthServerOptions {
  /** 0 picks a free port (see `url`). */
  readonly port: number;
  /** Default `127.0.0.1`; `0.0.0.0` to be reached from a load balancer or kubelet. */
  readonly host?: string;
  /** Served at `/metrics`; without it `/metrics` answers 404. */
  readonly registry?: MetricsRegistry;
  /** Readiness checks by name; `/readyz` is 200 only while all pass. */
  readonly checks?: Readonly<Record<string, HealthCheck>>;
  /** Closes the server when aborted. */
  readonly signal?: AbortSignal;
  /** A check slower than this fails; default 2 000 ms. */
  readonly checkTimeoutMs?: number;
  /** Where a failing request (e.g. a collector that throws) is logged; the client only sees a 500. */
  readonly logger?: Logger;
  /** `/healthz` fails while the event loop lags more than this; default 5 000 ms. */
  readonly maxEventLoopLagMs?: number;
}

export interface HealthServer {
  /** `http://<bound address>:<port>`. */
  readonly url: string;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves a daemon's probes over `node:http`:
 * - `GET /healthz`: liveness. 200 while the process answers and its event loop is not
 *   stalled; 503 when it lagged more than `maxEventLoopLagMs`.
 * - `GET /readyz`: readiness. 200 only while every check passes; 503 with a JSON body
 *   naming the failing checks otherwise (e.g. the runner is STOPPING or DRAINING), so a
 *   load balancer stops sending work before the process goes away.
 * - `GET /metrics`: the registry in Prometheus text format 0.0.4.
 *
 * Other paths answer 404, other methods than GET and HEAD 405.
 *
 * @example
 * ```ts
 * const health = await startHealthServer({
 *   port: 9464, registry, checks: { runner: runnerRunningCheck(runner) }, signal: shutdown.signal,
 * });
 * logger.info({ url: health.url }, 'health server listening');
 * ```
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  throwIfAborted(options.signal);
  const host = options.host ?? '127.0.0.1';
  const lag = new EventLoopLag();
  const closing = new AbortController();
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    route(req, res, options, lag, closing.signal).catch((err: unknown) => {
      options.logger?.error({ err, url: req.url }, 'health server request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  };

  let http: StartedHttpServer;
  try {
    // Probes are tiny: a slow or idle client must not hold a socket for long.
    http = await startHttpServer(listener, {
      host,
      port: options.port,
      server: { requestTimeout: 10_000, headersTimeout: 5_000 },
    });
  } catch (err) {
    lag.stop();
    throw new BackendError(`health server cannot listen on ${host}:${options.port}`, false, { cause: err });
  }
  const close = (): Promise<void> => {
    closing.abort(new AbortedError());
    options.signal?.removeEventListener('abort', onAbort);
    lag.stop();
    return http.close({ dropActive: true });
  };
  const onAbort = () => void close();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) await close();
  return { url: http.url, close };
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  options: HealthServerOptions,
  lag: EventLoopLag,
  closing: AbortSignal,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics')
    return sendJson(res, 404, { error: 'not found' });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return sendJson(res, 405, { error: 'method not allowed' });
  }
  if (path === '/healthz') {
    const lagMs = lag.lagMs();
    const max = options.maxEventLoopLagMs ?? 5_000;
    return sendJson(res, lagMs <= max ? 200 : 503, {
      status: lagMs <= max ? 'ok' : 'event loop stalled',
      lagMs,
    });
  }
  if (path === '/metrics') {
    if (!options.registry) return sendJson(res, 404, { error: 'no metrics registry' });
    return send(res, 200, prometheusContentType, options.registry.render());
  }
  const results = await runChecks(options.checks ?? {}, options.checkTimeoutMs ?? 2_000, closing);
  const failing = Object.keys(results).filter((name) => !results[name]?.ok);
  const status = failing.length === 0 ? 'ready' : 'not ready';
  return sendJson(res, failing.length === 0 ? 200 : 503, { status, failing, checks: results });
}

function sendJson(res: ServerResponse, status: number, body: object): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`);
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(body);
}
