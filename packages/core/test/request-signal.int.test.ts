import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { requestSignal } from '../src/http/request-signal.ts';
import { type StartedHttpServer, startHttpServer } from '../src/http/start-http-server.ts';

describe('requestSignal (real HTTP on a random loopback port)', () => {
  const started: StartedHttpServer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close({ dropActive: true })));
  });

  /** Starts a server that never answers and hands each request's signal to `seen`. */
  async function holdingServer(
    seen: (signal: AbortSignal) => void,
    timeoutMs?: number,
    parent?: AbortSignal,
  ) {
    const server = await startHttpServer(
      (_req, res) => seen(requestSignal(res, { timeoutMs, signal: parent })),
      { host: '127.0.0.1', port: 0 },
    );
    started.push(server);
    return server;
  }

  function nextSignal(): { promise: Promise<AbortSignal>; resolve: (signal: AbortSignal) => void } {
    let resolve!: (signal: AbortSignal) => void;
    const promise = new Promise<AbortSignal>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  }

  it('aborts when the client goes away before the answer', async () => {
    const seen = nextSignal();
    const server = await holdingServer(seen.resolve);
    const req = request(server.url).on('error', () => {});
    req.end();
    const signal = await seen.promise;
    expect(signal.aborted).toBe(false);

    const aborted = new Promise((resolve) => signal.addEventListener('abort', resolve));
    req.destroy();
    await aborted;

    expect((signal.reason as Error).message).toBe('client went away');
  });

  it('aborts at its deadline and with the parent signal', async () => {
    const timed = nextSignal();
    const server = await holdingServer(timed.resolve, 50);
    void fetch(server.url).catch(() => {});
    const timedSignal = await timed.promise;
    await new Promise((resolve) => timedSignal.addEventListener('abort', resolve));
    expect((timedSignal.reason as Error).name).toBe('TimeoutError');

    const shutdown = new AbortController();
    const withParent = nextSignal();
    const other = await holdingServer(withParent.resolve, undefined, shutdown.signal);
    void fetch(other.url).catch(() => {});
    const parentSignal = await withParent.promise;
    expect(parentSignal.aborted).toBe(false);
    shutdown.abort(new Error('shutting down'));
    expect((parentSignal.reason as Error).message).toBe('shutting down');
  });
});
