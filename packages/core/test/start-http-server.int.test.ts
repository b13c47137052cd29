import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type StartedHttpServer, startHttpServer } from '../src/http/start-http-server.ts';

/** A raw keep-alive GET, so the socket stays open after the answer. */
function keepAliveGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { connection: 'keep-alive' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('startHttpServer (real HTTP on a random loopback port)', () => {
  const started: StartedHttpServer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close({ dropActive: true })));
  });

  it('answers on the bound address and port, IPv4 and IPv6', async () => {
    const v4 = await startHttpServer((_req, res) => res.end('v4'), { host: '127.0.0.1', port: 0 });
    started.push(v4);
    expect(v4.url).toBe(`http://127.0.0.1:${v4.port}`);
    expect(v4.port).toBeGreaterThan(0);
    expect(await (await fetch(v4.url)).text()).toBe('v4');

    const v6 = await startHttpServer((_req, res) => res.end('v6'), { host: '::1', port: 0 }).catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRNOTAVAIL') return undefined; // a host without IPv6 loopback
        throw err;
      },
    );
    if (v6) {
      started.push(v6);
      expect(v6.url).toBe(`http://[::1]:${v6.port}`);
      expect(await (await fetch(v6.url)).text()).toBe('v6');
    }
  });

  it('rejects with the listen error when the port is taken', async () => {
    const first = await startHttpServer((_req, res) => res.end(), { host: '127.0.0.1', port: 0 });
    started.push(first);
    await expect(
      startHttpServer((_req, res) => res.end(), { host: '127.0.0.1', port: first.port }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('closes despite an idle keep-alive connection, idempotently, and refuses new connections', async () => {
    const server = await startHttpServer((_req, res) => res.end('ok'), { host: '127.0.0.1', port: 0 });
    expect(await keepAliveGet(server.url)).toBe(200);

    await Promise.all([server.close(), server.close()]);

    await expect(fetch(server.url)).rejects.toThrow();
  });

  it('waits for a request in flight, unless told to drop it', async () => {
    let answer: (() => void) | undefined;
    const server = await startHttpServer(
      (_req, res) => {
        answer = () => res.end('late');
      },
      { host: '127.0.0.1', port: 0 },
    );
    const inFlight = fetch(server.url).then((res) => res.text());
    while (!answer) await new Promise((resolve) => setTimeout(resolve, 5));
    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    answer();
    expect(await inFlight).toBe('late');
    await closing;

    let hold = false;
    const dropped = await startHttpServer(
      () => {
        hold = true; // never answers
      },
      { host: '127.0.0.1', port: 0 },
    );
    const abandoned = fetch(dropped.url);
    while (!hold) await new Promise((resolve) => setTimeout(resolve, 5));
    await dropped.close({ dropActive: true });
    await expect(abandoned).rejects.toThrow();
  });
});
