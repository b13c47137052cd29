// Listening and closing, the part every node:http server of the project shares (the health
// server, the compile API, the Fossa node API): bind, learn the address actually bound, and
// close without an idle keep-alive connection holding the process open.
import { once } from 'node:events';
import { createServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StartHttpServerOptions {
  /** The address to bind (`127.0.0.1`, `0.0.0.0`, `::`). */
  readonly host: string;
  /** 0 picks a free port (see `port` of the answer). */
  readonly port: number;
  /** Passed to `createServer` (e.g. `requestTimeout`, `headersTimeout`). */
  readonly server?: ServerOptions;
}

export interface CloseHttpServerOptions {
  /** Also drop connections with a request in flight, instead of waiting for their answers. */
  readonly dropActive?: boolean;
}

export interface StartedHttpServer {
  /** `http://<bound address>:<port>` (an IPv6 address in brackets). */
  readonly url: string;
  /** The port actually bound. */
  readonly port: number;
  readonly server: Server;
  /**
   * Stops accepting and ends idle keep-alive connections; resolves once the requests in flight
   * are answered (or at once with `dropActive`). Idempotent.
   */
  close(options?: CloseHttpServerOptions): Promise<void>;
}

/**
 * Creates a node:http server for `listener` and listens on `host`:`port`; rejects with the
 * listen error (e.g. `EADDRINUSE`) when it cannot bind.
 *
 * @example
 * ```ts
 * const http = await startHttpServer((req, res) => res.end('ok'), { host: '127.0.0.1', port: 0 });
 * console.log(http.url); // http://127.0.0.1:41234
 * await http.close();
 * ```
 */
export async function startHttpServer(
  listener: RequestListener,
  options: StartHttpServerOptions,
): Promise<StartedHttpServer> {
  let closing = false;
  const server = createServer(options.server ?? {}, (req, res) => {
    // A keep-alive connection whose answer ends after close() began is idle from then on:
    // end it too, or close() waits for the client's keep-alive timeout.
    res.once('finish', () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
    listener(req, res);
  });
  server.listen(options.port, options.host);
  await once(server, 'listening'); // rejects on an 'error' event first
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    server,
    close(closeOptions) {
      closing = true;
      closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (closeOptions?.dropActive) server.closeAllConnections();
      return closed;
    },
  };
}
