import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, BackendError } from '../src/errors.ts';
import { runnerRunningCheck } from '../src/observability/health-checks.ts';
import { type HealthServer, startHealthServer } from '../src/observability/health-server.ts';
import { MetricsRegistry } from '../src/observability/metrics.ts';
import type { RunnerState } from '../src/runner/runner-events.ts';

const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Omit<Parameters<typeof startHealthServer>[0], 'port'> = {}) {
  const server = await startHealthServer({ port: 0, ...options });
  servers.push(server);
  return server;
}

async function get(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    allow: res.headers.get('allow'),
    body: await res.text(),
  };
}

describe('startHealthServer (real HTTP on a random loopback port)', () => {
  it('answers /healthz with 200 while the process and its event loop are fine', async () => {
    const { url } = await start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await get(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.type).toContain('application/json');
    expect(JSON.parse(res.body)).toMatchObject({ status: 'ok' });
  });

  it('reports readiness from the runner: 200 while RUNNING, 503 naming the check while stopping', async () => {
    const runner = {
      state: 'RUNNING' as RunnerState,
      stats: () => ({ state: runner.state, inFlight: 0, concurrency: 1 }),
    };
    const { url } = await start({ checks: { runner: runnerRunningCheck(runner), disk: () => true } });
    const ready = await get(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({
      status: 'ready',
      failing: [],
      checks: { runner: { ok: true, detail: 'RUNNING' }, disk: { ok: true } },
    });
    for (const state of ['STOPPING', 'DRAINING', 'STOPPED'] as const) {
      runner.state = state;
      const res = await get(`${url}/readyz?verbose=1`);
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toMatchObject({
        status: 'not ready',
        failing: ['runner'],
        checks: { runner: { ok: false, detail: state }, disk: { ok: true } },
      });
    }
  });

  it('fails checks that throw, reject or outlive their timeout, and tells the late one to stop', async () => {
    let lateSignal: AbortSignal | undefined;
    const { url } = await start({
      checkTimeoutMs: 100,
      checks: {
        throws: () => {
          throw new Error('disk full');
        },
        rejects: async () => Promise.reject(new Error('no route')),
        hangs: (signal) => {
          lateSignal = signal;
          return new Promise<boolean>(() => {});
        },
        fine: async () => ({ ok: true, detail: 'fine' }),
      },
    });
    const res = await get(`${url}/readyz`);
    expect(res.status).toBe(503);
    const body = JSON.parse(res.body);
    expect(body.failing.sort()).toEqual(['hangs', 'rejects', 'throws']);
    expect(body.checks.throws).toEqual({ ok: false, detail: 'disk full' });
    expect(body.checks.hangs).toEqual({ ok: false, detail: 'timed out after 100 ms' });
    expect(body.checks.fine).toEqual({ ok: true, detail: 'fine' });
    expect(lateSignal?.aborted).toBe(true);
  });

  it('serves /metrics in text format 0.0.4, rendered at scrape time', async () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter({ name: 'probe_hits_total', help: 'Hits.' });
    const { url } = await start({ registry });
    counter.inc(3);
    const res = await get(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.body).toBe(
      '# HELP probe_hits_total Hits.\n# TYPE probe_hits_total counter\nprobe_hits_total 3\n',
    );
  });

  it('answers 500 without details when rendering fails, and logs the error', async () => {
    const registry = new MetricsRegistry();
    registry.addCollector(() => {
      throw new Error('secret detail');
    });
    const logged: unknown[] = [];
    const log = (obj: unknown) => logged.push(obj);
    const logger = {
      trace: log,
      debug: log,
      info: log,
      warn: log,
      error: log,
      fatal: log,
      child: () => logger,
    };
    const { url } = await start({ registry, logger });
    const res = await get(`${url}/metrics`);
    expect(res.status).toBe(500);
    expect(res.body).toBe('internal error\n');
    expect(logged).toEqual([expect.objectContaining({ url: '/metrics', err: expect.any(Error) })]);
  });

  it('answers 404 for unknown paths (and /metrics without a registry), 405 for other methods, HEAD without body', async () => {
    const { url } = await start();
    expect((await get(`${url}/nope`)).status).toBe(404);
    expect((await get(`${url}/metrics`)).status).toBe(404);
    const post = await get(`${url}/healthz`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.allow).toBe('GET, HEAD');
    expect((await get(`${url}/readyz`, { method: 'DELETE' })).status).toBe(405);
    const head = await get(`${url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('reports a stalled event loop on /healthz, then recovers', async () => {
    const { url } = await start({ maxEventLoopLagMs: 800 });
    expect((await get(`${url}/healthz`)).status).toBe(200);
    const until = performance.now() + 2_000;
    while (performance.now() < until) {
      // Block the loop as a CPU-bound handler would.
    }
    const stalled = await get(`${url}/healthz`);
    expect(stalled.status).toBe(503);
    expect(JSON.parse(stalled.body).lagMs).toBeGreaterThan(800);
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await get(`${url}/healthz`)).status;
    }
    expect(status).toBe(200);
  });

  it('closes (idempotently, despite keep-alive connections) and when its signal aborts', async () => {
    const server = await startHealthServer({ port: 0 });
    const agentRes = await new Promise<number>((resolve, reject) => {
      // A raw keep-alive request leaves an open socket that close() must drop.
      request(`${server.url}/healthz`, { headers: { connection: 'keep-alive' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(agentRes).toBe(200);
    await Promise.all([server.close(), server.close()]);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();

    const controller = new AbortController();
    const other = await startHealthServer({ port: 0, signal: controller.signal });
    expect((await get(`${other.url}/healthz`)).status).toBe(200);
    controller.abort();
    await other.close();
    await expect(fetch(`${other.url}/healthz`)).rejects.toThrow();

    await expect(startHealthServer({ port: 0, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      AbortedError,
    );
  });

  it('refuses a port already in use with a BackendError', async () => {
    const first = await start();
    const port = Number(new URL(first.url).port);
    await expect(startHealthServer({ port })).rejects.toBeInstanceOf(BackendError);
  });
});
