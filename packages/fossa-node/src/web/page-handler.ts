import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Logger, requestSignal, ValidationError } from '@spotjobs/core';
import { STYLESHEET_PATH, sendStylesheet, sendText } from './page-layout.ts';

/** Mounts pages on a `node:http` server: true when the request was one of them (answered or being answered). */
export type PageHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** One page request, routed: what a page's `answer` gets. */
export interface PageRequest<Route> {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: Route;
  readonly url: URL;
  /** Aborted when the client leaves or the server shuts down. */
  readonly signal: AbortSignal;
}

export interface PageHandlerOptions<Route> {
  /** The page a path names, or undefined when the path is none of these pages. */
  readonly route: (pathname: string) => Route | undefined;
  /** Answers a routed `GET`/`HEAD`; a rejection becomes a 400 or 500 page (`failPage`). */
  readonly answer: (request: PageRequest<Route>) => Promise<void>;
  /** Where a failing read is logged; the browser sees a 500 page without details. */
  readonly logger?: Logger;
  /** The server's shutdown: aborts reads still running. */
  readonly signal?: AbortSignal;
}

/**
 * A `PageHandler` over a set of pages: serves the stylesheet, answers 405 to anything but
 * `GET`/`HEAD` on a page path, aborts a page's reads when its client leaves, and turns a failed
 * read into an error page. The node pages and the gateway pages differ only in `route` and `answer`.
 *
 * @example
 * ```ts
 * const pages = createPageHandler({
 *   route: (pathname) => (pathname === '/' ? 'home' : undefined),
 *   answer: async ({ req, res }) => sendText(req, res, 200, 'hello'),
 * });
 * createServer((req, res) => { if (!pages(req, res)) sendText(req, res, 404, 'Not found'); });
 * ```
 */
export function createPageHandler<Route>(options: PageHandlerOptions<Route>): PageHandler {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://pages.invalid');
    const isStylesheet = url.pathname === STYLESHEET_PATH;
    const route = isStylesheet ? undefined : options.route(url.pathname);
    if (!isStylesheet && route === undefined) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendText(req, res, 405, 'Method not allowed');
      return true;
    }
    if (route === undefined) {
      sendStylesheet(req, res);
      return true;
    }
    const signal = requestSignal(res, { signal: options.signal });
    options
      .answer({ req, res, route, url, signal })
      .catch((err: unknown) => failPage(req, res, err, options.logger));
    return true;
  };
}

/**
 * The id of a `/<kind>/<id>` path (percent-decoded), or undefined for any other path.
 *
 * @example
 * ```ts
 * pathId('/task/abcde%3A3', 'task'); // 'abcde:3'
 * pathId('/node/n-1', 'task'); // undefined
 * ```
 */
export function pathId(pathname: string, kind: string): string | undefined {
  const prefix = `/${kind}/`;
  if (!pathname.startsWith(prefix)) return undefined;
  const segment = pathname.slice(prefix.length);
  if (segment === '' || segment.includes('/')) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined; // malformed percent-encoding names nothing
  }
}

/**
 * Answers a page whose read failed: 400 naming the problem for a bad `?limit=`/`?cursor=`, else
 * a 500 without details (logged). Nothing when the client already left.
 */
function failPage(req: IncomingMessage, res: ServerResponse, err: unknown, logger: Logger | undefined): void {
  if (res.headersSent || res.destroyed) return;
  if (err instanceof ValidationError) {
    sendText(req, res, 400, `Bad request: ${err.issues.join('; ')}`);
    return;
  }
  logger?.error({ err, url: req.url }, 'page failed');
  sendText(req, res, 500, 'Internal error');
}
