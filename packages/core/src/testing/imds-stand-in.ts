import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../ports/clock.ts';
import { systemClock } from '../time/system-clock.ts';

export interface ImdsStandInOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0: a free port (see `url`). */
  readonly port?: number;
  /** `HttpTokens=required` (default): a GET without a token is refused with 401. */
  readonly tokenRequired?: boolean;
  /** Token lifetimes run on this clock's monotonic time; default the real clock. */
  readonly clock?: Clock;
}

/** A spot interruption notice as IMDS serves it; `time` as a date-time string, epoch ms or Date. */
export interface StandInInstanceAction {
  readonly action: 'terminate' | 'stop' | 'hibernate';
  readonly time: string | number | Date;
}

export interface StandInRebalance {
  readonly noticeTime: string | number | Date;
}

/** Which requests to count; every field optional. */
export interface ImdsRequestFilter {
  readonly method?: string;
  readonly path?: string;
  readonly status?: number;
}

export interface ImdsStandIn {
  /** `http://host:port`: the `endpoint` for `ImdsInterruptionSource`. */
  readonly url: string;
  /** Serve this spot notice (a string is served verbatim, e.g. malformed JSON); `undefined`: 404. */
  setInstanceAction(action: StandInInstanceAction | string | undefined): void;
  /** Serve this rebalance recommendation (a string verbatim); `undefined`: 404. */
  setRebalance(rebalance: StandInRebalance | string | undefined): void;
  /** Every token issued so far is expired from now on (as after a long hibernation). */
  expireTokens(): void;
  /** Delays every answer by `ms` (0: none), to exercise client timeouts. */
  setLatencyMs(ms: number): void;
  /**
   * While down, connections are dropped on arrival (open ones at once), like an unreachable
   * IMDS; dropped requests are not counted. Right after it is back, a client may still fail
   * once on a pooled connection it has not yet seen closed.
   */
  setDown(down: boolean): void;
  /** Requests answered so far, matching `filter`. */
  requestCount(filter?: ImdsRequestFilter): number;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

const tokenPath = '/latest/api/token';
const ttlHeader = 'x-aws-ec2-metadata-token-ttl-seconds';
const tokenHeader = 'x-aws-ec2-metadata-token';

/**
 * An EC2 instance metadata service (IMDSv2) on loopback, for tests, speaking the protocol
 * as EC2 does:
 * - `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds: 1..21600` → a token
 *   (the TTL echoed in the same header); 400 without a valid TTL; 403 with
 *   `X-Forwarded-For` (EC2 refuses token requests that went through a proxy).
 * - `GET` with `X-aws-ec2-metadata-token`: 401 for a missing (when required), unknown or
 *   expired token; 404 for an event that is not there; `text/plain` JSON bodies otherwise.
 * - Paths: `spot/instance-action`, `spot/termination-time` (legacy, while the action is
 *   terminate), `events/recommendations/rebalance`, `instance-life-cycle` (`spot`).
 *
 * @example
 * ```ts
 * const imds = await startImdsStandIn();
 * const source = new ImdsInterruptionSource({ endpoint: imds.url, pollIntervalMs: 100 });
 * imds.setInstanceAction({ action: 'terminate', time: Date.now() + 120_000 });
 * // … the source reports a terminate notice within a poll
 * await imds.close();
 * ```
 */
export async function startImdsStandIn(options: ImdsStandInOptions = {}): Promise<ImdsStandIn> {
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? systemClock;
  const tokenRequired = options.tokenRequired ?? true;
  const tokens = new Map<string, number>(); // token → monotonic expiry
  const counts = new Map<string, number>(); // "METHOD path status" → n
  let instanceAction: string | undefined;
  let terminationTime: string | undefined;
  let rebalance: string | undefined;
  let latencyMs = 0;
  let down = false;
  const pending = new Set<NodeJS.Timeout>();

  const count = (method: string, path: string, status: number): void => {
    const key = `${method} ${path} ${status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };

  const answer = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const { status, body, headers } = route(req, path);
    count(req.method ?? '', path, status);
    const send = (): void => {
      res.writeHead(status, {
        'content-type': status === 200 ? 'text/plain' : 'text/html',
        'content-length': Buffer.byteLength(body),
        server: 'EC2ws',
        ...headers,
      });
      res.end(body);
    };
    if (latencyMs <= 0) {
      send();
      return;
    }
    const timer = setTimeout(() => {
      pending.delete(timer);
      if (!res.destroyed) send();
    }, latencyMs);
    pending.add(timer);
  };

  const route = (
    req: IncomingMessage,
    path: string,
  ): { status: number; body: string; headers?: Record<string, string> } => {
    if (path === tokenPath) {
      if (req.method !== 'PUT') return errorPage(405, { allow: 'PUT' });
      if (req.headers['x-forwarded-for'] !== undefined) return errorPage(403);
      const ttlText = req.headers[ttlHeader];
      const ttl = typeof ttlText === 'string' && /^\d{1,5}$/.test(ttlText) ? Number(ttlText) : 0;
      if (ttl < 1 || ttl > 21_600) return errorPage(400);
      const now = clock.monotonic();
      for (const [token, expiresAt] of tokens) if (expiresAt <= now) tokens.delete(token);
      const token = randomBytes(42).toString('base64');
      tokens.set(token, now + ttl * 1_000);
      return { status: 200, body: token, headers: { [ttlHeader]: String(ttl) } };
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return errorPage(405, { allow: 'GET, HEAD' });
    const token = req.headers[tokenHeader];
    if (token === undefined) {
      if (tokenRequired) return errorPage(401);
    } else {
      // Even where tokens are optional, a token that is presented must be valid.
      const expiresAt = typeof token === 'string' ? tokens.get(token) : undefined;
      if (expiresAt === undefined || expiresAt <= clock.monotonic()) return errorPage(401);
    }
    const body = metadata(path);
    return body === undefined ? errorPage(404) : { status: 200, body };
  };

  const metadata = (path: string): string | undefined => {
    switch (path) {
      case '/latest/meta-data/spot/instance-action':
        return instanceAction;
      case '/latest/meta-data/spot/termination-time':
        return terminationTime;
      case '/latest/meta-data/events/recommendations/rebalance':
        return rebalance;
      case '/latest/meta-data/instance-life-cycle':
        return 'spot';
      default:
        return undefined;
    }
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (down) {
      req.socket.destroy();
      return;
    }
    // Answer only once the request (bodies are not expected) has been read.
    req.resume();
    req.once('end', () => answer(req, res, path));
  });
  server.on('connection', (socket) => {
    if (down) socket.destroy();
  });

  server.listen({ host, port: options.port ?? 0 });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    setInstanceAction(action) {
      if (action === undefined || typeof action === 'string') {
        instanceAction = action;
        terminationTime = undefined;
        return;
      }
      const time = imdsTime(action.time);
      instanceAction = JSON.stringify({ action: action.action, time });
      terminationTime = action.action === 'terminate' ? time : undefined;
    },
    setRebalance(value) {
      rebalance =
        value === undefined || typeof value === 'string'
          ? value
          : JSON.stringify({ noticeTime: imdsTime(value.noticeTime) });
    },
    expireTokens() {
      tokens.clear();
    },
    setLatencyMs(ms) {
      latencyMs = Math.max(0, ms);
    },
    setDown(value) {
      down = value;
      if (down) server.closeAllConnections();
    },
    requestCount(filter = {}) {
      let total = 0;
      for (const [key, n] of counts) {
        const [method, path, status] = key.split(' ');
        if (filter.method !== undefined && filter.method !== method) continue;
        if (filter.path !== undefined && filter.path !== path) continue;
        if (filter.status !== undefined && String(filter.status) !== status) continue;
        total += n;
      }
      return total;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const timer of pending) clearTimeout(timer);
        pending.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** EC2's format: UTC to the second, `2026-09-18T08:22:00Z`. A string is kept as given. */
function imdsTime(time: string | number | Date): string {
  if (typeof time === 'string') return time;
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const reasons: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
};

/** EC2 answers errors with a small XHTML page. */
function errorPage(
  status: number,
  headers?: Record<string, string>,
): { status: number; body: string; headers?: Record<string, string> } {
  const title = `${status} - ${reasons[status] ?? 'Error'}`;
  const body =
    '<?xml version="1.0" encoding="iso-8859-1"?>\n' +
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n' +
    '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n' +
    '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n' +
    ` <head>\n  <title>${title}</title>\n </head>\n <body>\n  <h1>${title}</h1>\n </body>\n</html>\n`;
  return headers ? { status, body, headers } : { status, body };
}
