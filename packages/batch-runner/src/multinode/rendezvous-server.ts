import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '@spotjobs/core';
import { RendezvousError } from '../run/runner-errors.ts';
import type { NodeIdentity } from './node-identity.ts';
import {
  type DoneAnswer,
  finishedSchema,
  MAX_BODY_BYTES,
  RendezvousPaths,
  registrationSchema,
} from './rendezvous-protocol.ts';
import { carriesToken } from './rendezvous-token.ts';

// How long the main node waits, after the last report, for children to hang up.
const HANG_UP_WAIT_MS = 5000;

export interface RendezvousServerOptions {
  /** Address to listen on (the main node's own address). */
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly token: string;
  /** Indexes of the child nodes expected to join. */
  readonly children: readonly number[];
  /** Longest a `done` poll is held before answering `{done:false}`. */
  readonly donePollMs: number;
  readonly logger: Logger;
}

/** A child that joined. */
export interface JoinedNode extends NodeIdentity {
  readonly node: number;
}

/**
 * The main node's side of the rendezvous (protocol in `rendezvous-protocol.ts`): children
 * register, `waitForChildren` resolves once all did, `finish` answers every pending and later
 * `done` poll with the exit code, `waitForChildrenFinished` waits (bounded) for their reports.
 * Lifecycle: `start → waitForChildren → finish → waitForChildrenFinished → close`.
 *
 * @example
 * ```ts
 * const server = await RendezvousServer.start({ host: '10.0.0.5', port: 7650, token, children: [1, 2, 3], donePollMs: 20_000, logger });
 * const joined = await server.waitForChildren(600_000, signal);
 * server.finish(exitCode);
 * await server.waitForChildrenFinished(60_000);
 * await server.close();
 * ```
 */
export class RendezvousServer {
  readonly #server: Server;
  readonly #options: RendezvousServerOptions;
  readonly #joined = new Map<number, JoinedNode>();
  readonly #finished = new Set<number>();
  /** Connections of children that reported, open until the child process is gone. */
  readonly #leaving = new Set<Socket>();
  readonly #pollers = new Set<(answer: DoneAnswer) => void>();
  readonly #changed = new EventTarget();
  #closedToJoins = false;
  #failure: RendezvousError | undefined;
  #done: DoneAnswer | undefined;

  private constructor(server: Server, options: RendezvousServerOptions) {
    this.#server = server;
    this.#options = options;
  }

  static async start(options: RendezvousServerOptions): Promise<RendezvousServer> {
    const server = createServer();
    const rendezvous = new RendezvousServer(server, options);
    server.on('request', (req, res) => rendezvous.#handle(req, res));
    // Long polls are answered by the server itself; idle keep-alive sockets may stay a while.
    server.keepAliveTimeout = options.donePollMs + 5000;
    server.requestTimeout = 0;
    server.listen(options.port, options.host);
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([err]) => {
        throw new RendezvousError(
          `cannot listen on ${options.host}:${options.port} for the rendezvous: ${(err as Error).message}`,
          { cause: err },
        );
      }),
    ]);
    return rendezvous;
  }

  /** The port listened on. */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Children that joined so far, in node order. */
  get joined(): JoinedNode[] {
    return [...this.#joined.values()].sort((a, b) => a.node - b.node);
  }

  /**
   * Resolves with every child once all expected ones joined; rejects with `RendezvousError`
   * when `timeoutMs` passes first (naming the missing nodes) or a child reports a failure.
   * Either way, no child may join afterwards.
   */
  async waitForChildren(timeoutMs: number, signal?: AbortSignal): Promise<JoinedNode[]> {
    const expected = this.#options.children;
    const deadline = performance.now() + timeoutMs;
    try {
      while (true) {
        if (this.#failure) throw this.#failure;
        if (expected.every((node) => this.#joined.has(node))) return this.joined;
        const left = deadline - performance.now();
        if (left <= 0) {
          const missing = expected.filter((node) => !this.#joined.has(node));
          throw new RendezvousError(
            `${missing.length} of ${expected.length} child node(s) did not join within ${Math.round(timeoutMs / 1000)} s: node(s) ${missing.join(', ')} (SPOTJOBS_RENDEZVOUS_TIMEOUT_SECONDS)`,
            { missingNodes: missing },
          );
        }
        await this.#nextChange(left, signal);
      }
    } finally {
      this.#closedToJoins = true;
    }
  }

  /** Tells every child the job is over, with the exit code it ends with. Idempotent. */
  finish(exitCode: number, reason?: string): void {
    if (this.#done) return;
    this.#closedToJoins = true;
    this.#done = reason === undefined ? { done: true, exitCode } : { done: true, exitCode, reason };
    // A wait for children still running (the main node failed while staging) ends now.
    this.#failure ??= new RendezvousError(
      `the main node finished (exit ${exitCode}) before every child joined`,
    );
    this.#changed.dispatchEvent(new Event('change'));
    for (const answer of this.#pollers) answer(this.#done);
    this.#pollers.clear();
    this.#options.logger.info({ exitCode, children: this.#joined.size }, 'children told to finish');
  }

  /**
   * After `finish`: waits until every joined child reported it finished and then hung up (its
   * process is gone, so the kernel closed its connection), or `timeoutMs`; returns the
   * children that did not report. The main node exiting last keeps Batch from stopping a child
   * that is still winding down.
   */
  async waitForChildrenFinished(timeoutMs: number): Promise<number[]> {
    let deadline = performance.now() + timeoutMs;
    const pending = () => [...this.#joined.keys()].filter((node) => !this.#finished.has(node));
    let reported = false;
    while (pending().length > 0 || this.#leaving.size > 0) {
      if (!reported && pending().length === 0) {
        // Everyone reported; a child still exiting gets a few seconds, not the whole budget.
        reported = true;
        deadline = Math.min(deadline, performance.now() + HANG_UP_WAIT_MS);
      }
      const left = deadline - performance.now();
      if (left <= 0) break;
      await this.#nextChange(left);
    }
    return pending();
  }

  async close(): Promise<void> {
    for (const answer of this.#pollers) answer({ done: false });
    this.#pollers.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    setTimeout(() => this.#server.closeAllConnections(), 1000).unref();
    await closed;
  }

  #nextChange(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#changed.removeEventListener('change', done);
        signal?.removeEventListener('abort', aborted);
        resolve();
      };
      const aborted = () => {
        done();
        reject(signal?.reason);
      };
      const timer = setTimeout(done, ms);
      this.#changed.addEventListener('change', done);
      if (signal?.aborted) aborted();
      else signal?.addEventListener('abort', aborted, { once: true });
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://rendezvous');
    if (!carriesToken(req.headers.authorization, this.#options.token)) {
      // A node of another job (or attempt) or a stray host: refused and logged, never counted.
      this.#options.logger.warn(
        { from: req.socket.remoteAddress, path: url.pathname },
        'rendezvous request with a wrong token',
      );
      reply(res, 401, { error: 'wrong rendezvous token (another job or attempt?)' });
    } else if (req.method === 'POST' && url.pathname === RendezvousPaths.register) {
      this.#register(req, res).catch((err: unknown) => broken(res, err));
    } else if (req.method === 'GET' && url.pathname === RendezvousPaths.done) {
      this.#poll(url, res);
    } else if (req.method === 'POST' && url.pathname === RendezvousPaths.finished) {
      this.#finishedReport(req, res).catch((err: unknown) => broken(res, err));
    } else reply(res, 404, { error: 'not found' });
  }

  async #register(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const parsed = registrationSchema.safeParse(body);
    if (!parsed.success)
      return reply(res, 400, { error: `bad registration: ${parsed.error.issues[0]?.message}` });
    const { node, address, slots, failure } = parsed.data;
    if (!this.#options.children.includes(node))
      return reply(res, 400, { error: `node ${node} is not a child node of this job` });
    if (this.#done) return reply(res, 200, { joined: false, ...this.#done });
    if (this.#closedToJoins && !this.#joined.has(node))
      return reply(res, 409, { error: 'the rendezvous is closed: the job went on without this node' });
    if (failure !== undefined) {
      this.#failure ??= new RendezvousError(`node ${node} (${address}) cannot take part: ${failure}`);
      this.#changed.dispatchEvent(new Event('change'));
      return reply(res, 200, { joined: false });
    }
    const clash = [...this.#joined.values()].find(
      (other) => other.address === address && other.node !== node,
    );
    if (clash)
      return reply(res, 409, { error: `address ${address} is already registered by node ${clash.node}` });
    const again = this.#joined.has(node);
    this.#joined.set(node, { node, address, slots });
    this.#options.logger.info(
      { node, address, slots, joined: this.#joined.size, expected: this.#options.children.length, again },
      'child node joined',
    );
    this.#changed.dispatchEvent(new Event('change'));
    reply(res, 200, { joined: true, count: this.#joined.size, expected: this.#options.children.length });
  }

  #poll(url: URL, res: ServerResponse): void {
    const node = Number(url.searchParams.get('node'));
    if (this.#done) {
      reply(res, 200, this.#done);
      return;
    }
    if (!this.#joined.has(node)) {
      reply(res, 409, { error: `node ${node} has not joined` });
      return;
    }
    let answered = false;
    const answer = (value: DoneAnswer) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      this.#pollers.delete(answer);
      reply(res, 200, value);
    };
    const timer = setTimeout(() => answer({ done: false }), this.#options.donePollMs);
    this.#pollers.add(answer);
    res.on('close', () => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      this.#pollers.delete(answer);
    });
  }

  async #finishedReport(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = finishedSchema.safeParse(await readJson(req));
    if (!parsed.success) return reply(res, 400, { error: `bad report: ${parsed.error.issues[0]?.message}` });
    const { node, exitCode, error } = parsed.data;
    this.#finished.add(node);
    const socket = req.socket;
    if (!socket.destroyed) {
      this.#leaving.add(socket);
      socket.once('close', () => {
        this.#leaving.delete(socket);
        this.#changed.dispatchEvent(new Event('change'));
      });
    }
    const log = error
      ? this.#options.logger.warn.bind(this.#options.logger)
      : this.#options.logger.info.bind(this.#options.logger);
    log({ node, exitCode, ...(error ? { error } : {}) }, 'child node finished');
    this.#changed.dispatchEvent(new Event('change'));
    reply(res, 200, { ok: true });
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A request that failed mid-way (the peer went away while sending): drop the connection. */
function broken(res: ServerResponse, err: unknown): void {
  res.destroy(err instanceof Error ? err : undefined);
}

function reply(res: ServerResponse, status: number, body: object): void {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
