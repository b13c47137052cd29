// The bench's HTTP client: a closed-loop load generator in a worker thread of its own, so the
// client's CPU is not taken from the server's event loop (the server under test runs on the
// main thread of the bench process; on a 2-core machine each gets a core).
import { Worker } from 'node:worker_threads';

/** One request the generator sends; a run cycles through its list. */
export interface LoadRequest {
  /** `http://host:port` of the server, when not the run's `origin`. */
  readonly origin?: string;
  readonly method: 'GET' | 'POST';
  /** Path and query, as sent on the request line. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** One measured run: `total` requests, `concurrency` of them in flight at any time. */
export interface LoadSpec {
  /** `http://host:port` of the server (of every request that names none). */
  readonly origin: string;
  readonly requests: readonly LoadRequest[];
  /**
   * Sent once on each of `concurrency` fresh connections (per origin) before the clock starts,
   * its answers unchecked: every run connects anew, so no run inherits idle sockets a server
   * may be closing, and no measured request pays for connecting.
   */
  readonly connect: LoadRequest;
  readonly total: number;
  readonly concurrency: number;
  /** Every answer must have this status and a body starting with `bodyStart`, or it counts as unexpected. */
  readonly expect: { readonly status: number; readonly bodyStart: string };
  /** The whole run is aborted (and the bench broken) after this long. */
  readonly timeoutMs: number;
}

/** What a run measured, on the client's side of the socket. */
export interface LoadReport {
  /** Per request, from writing the request to the last byte of the answer, in send order. */
  readonly latenciesMs: Float64Array<ArrayBuffer>;
  /** From the first request sent to the last answer read. */
  readonly elapsedMs: number;
  /** Answers per second over `elapsedMs`. */
  readonly throughput: number;
  /** Answers with another status or body (the first one is quoted in `firstUnexpected`). */
  readonly unexpected: number;
  readonly firstUnexpected: string | undefined;
  /**
   * How busy the client's own event loop was over the run (0–1). Well below 1 means the client
   * waited for the server: it was not the bottleneck.
   */
  readonly clientLoopUtilisation: number;
  /** CPU time of the client's thread per request, µs (user + system). */
  readonly clientCpuUsPerRequest: number;
  /** Requests sent and not yet answered when the first answer arrived (concurrency actually reached). */
  readonly inFlightAtFirstAnswer: number;
}

type WorkerReply =
  | { readonly id: number; readonly report: LoadReport }
  | { readonly id: number; readonly error: string };

/**
 * A keep-alive HTTP load generator on its own thread: `concurrency` closed loops, each sending
 * its next request when the previous answer is read, over connections opened at the start of
 * the run (untimed) and closed at its end.
 *
 * @example
 * ```ts
 * const client = await HttpLoadClient.start();
 * const status = { method: 'GET', path: '/v1/builds/<id>' } as const;
 * const report = await client.run({ origin: server.url, requests: [status], connect: status,
 *   total: 20_000, concurrency: 200, expect: { status: 200, bodyStart: '{' }, timeoutMs: 120_000 });
 * await client.close();
 * ```
 */
export class HttpLoadClient {
  readonly #worker: Worker;
  readonly #pending = new Map<number, PromiseWithResolvers<LoadReport>>();
  #nextId = 0;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (reply: WorkerReply) => {
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if ('error' in reply) pending?.reject(new Error(`load generator: ${reply.error}`));
      else pending?.resolve(reply.report);
    });
    worker.on('error', (err) => this.#failAll(err));
    worker.on('exit', (code) => this.#failAll(new Error(`load generator exited with code ${code}`)));
  }

  /** Starts the generator's thread. */
  static async start(): Promise<HttpLoadClient> {
    const worker = new Worker(new URL('./http-load-worker.ts', import.meta.url));
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    return new HttpLoadClient(worker);
  }

  /** Sends `spec.total` requests and resolves with what the client measured. */
  run(spec: LoadSpec): Promise<LoadReport> {
    const id = this.#nextId++;
    const pending = Promise.withResolvers<LoadReport>();
    this.#pending.set(id, pending);
    this.#worker.postMessage({ id, spec });
    return pending.promise;
  }

  /** Stops the thread (and its connections). */
  async close(): Promise<void> {
    this.#worker.removeAllListeners('exit');
    await this.#worker.terminate();
  }

  #failAll(err: Error): void {
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
  }
}
