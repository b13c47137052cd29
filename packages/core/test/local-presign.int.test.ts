// Presigned URLs of FsBlobStore over real HTTP: createBlobRequestHandler mounted on a node:http
// server on a random loopback port, as the local daemon mounts it.
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  type BlobRequestHandler,
  createBlobRequestHandler,
  type FsBlobStore,
  type LocalStore,
} from '../src/adapters/local/index.ts';
import { readAll } from '../src/testing/conformance-support.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { tempDataDir, tempStore } from './fixtures/local-temp-store.ts';

// The server's own answer when the handler declines a request, to tell "not mine" from a 404.
const UNHANDLED = 418;

interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Starts a loopback server whose handler is set once the base URL (with its port) is known. */
async function startServer(): Promise<{ origin: string; mount: (handler: BlobRequestHandler) => void }> {
  let handler: BlobRequestHandler | undefined;
  const server = createServer((req, res) => {
    (handler ? handler(req, res) : Promise.resolve(false)).then(
      (handled) => {
        if (!handled) res.writeHead(UNHANDLED).end();
      },
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    mount: (h) => {
      handler = h;
    },
  };
}

async function setup(): Promise<{
  clock: ManualClock;
  store: LocalStore;
  dataDir: string;
  origin: string;
  blobs: FsBlobStore;
}> {
  const clock = new ManualClock(Date.now());
  const dataDir = await tempDataDir();
  const store = await tempStore({ clock, dataDir });
  const { origin, mount } = await startServer();
  const blobs = store.blobs({ namespace: 'artifacts', baseUrl: `${origin}/blobs` });
  mount(createBlobRequestHandler(blobs));
  return { clock, store, dataDir, origin, blobs };
}

/** A raw HTTP request: the path goes out exactly as given, `..` and all (fetch would resolve it). */
function send(
  method: string,
  origin: string,
  path: string,
  body?: string | ((req: ReturnType<typeof request>) => Promise<void>),
  headers: Record<string, string> = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(origin);
    const req = request({ method, hostname, port, path, headers }, (res) => {
      readAll(res).then(
        (data) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data.toString() }),
        reject,
      );
    });
    req.on('error', reject);
    if (typeof body === 'function') body(req).catch(reject);
    else req.end(body);
  });
}

const pathOf = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};

describe('createBlobRequestHandler', () => {
  it('serves a valid presigned GET, streamed with its type, length and etag', async () => {
    const { origin, blobs } = await setup();
    const body = 'x'.repeat(200_000);
    const info = await blobs.put('builds/app-1.0.tbz2', body, { contentType: 'application/x-tar' });
    const url = await blobs.presign('builds/app-1.0.tbz2', { method: 'GET', expiresInSeconds: 60 });

    const res = await send('GET', origin, pathOf(url));

    expect(url.startsWith(`${origin}/blobs/artifacts/builds/app-1.0.tbz2?`)).toBe(true);
    expect(res.status).toBe(200);
    expect(res.body).toBe(body);
    expect(res.headers['content-type']).toBe('application/x-tar');
    expect(res.headers['content-length']).toBe(String(body.length));
    expect(res.headers.etag).toBe(`"${info.etag}"`);
  });

  it('works with plain fetch, for a key that needs escaping', async () => {
    const { blobs } = await setup();
    await blobs.put('dir/with space & ü?.txt', 'escaped');

    const res = await fetch(
      await blobs.presign('dir/with space & ü?.txt', { method: 'GET', expiresInSeconds: 60 }),
    );

    expect(res.status).toBe(200);
    expect(await res.text()).toBe('escaped');
  });

  it('stores a presigned PUT with its content type', async () => {
    const { origin, blobs } = await setup();
    const url = await blobs.presign('uploads/in.json', { method: 'PUT', expiresInSeconds: 60 });

    const res = await send('PUT', origin, pathOf(url), '{"in":1}', { 'Content-Type': 'application/json' });

    expect(res.status).toBe(200);
    const stored = await blobs.get('uploads/in.json');
    expect((await readAll(stored.body)).toString()).toBe('{"in":1}');
    expect(stored.info.contentType).toBe('application/json');
    expect(res.headers.etag).toBe(`"${stored.info.etag}"`);
  });

  it('a PUT in progress is invisible: readers see the previous object until it completes', async () => {
    const { origin, blobs } = await setup();
    await blobs.put('big.bin', 'old');
    const url = await blobs.presign('big.bin', { method: 'PUT', expiresInSeconds: 60 });
    const chunk = 'n'.repeat(64 * 1024);
    let midway: string | undefined;

    const res = await send('PUT', origin, pathOf(url), async (req) => {
      for (let i = 0; i < 4; i++) {
        req.write(chunk);
        await sleep(20);
      }
      midway = (await readAll((await blobs.get('big.bin')).body)).toString();
      req.end(chunk);
    });

    expect(res.status).toBe(200);
    expect(midway).toBe('old');
    expect((await blobs.head('big.bin'))?.size).toBe(5 * chunk.length);
  });

  it('answers 403 to a tampered, missing or misused signature', async () => {
    const { origin, blobs } = await setup();
    await blobs.put('secret.txt', 'secret');
    const url = new URL(await blobs.presign('secret.txt', { method: 'GET', expiresInSeconds: 60 }));
    const sig = url.searchParams.get('sig')!;
    const variant = (change: (u: URL) => void) => {
      const copy = new URL(url);
      change(copy);
      return pathOf(copy.href);
    };

    const attempts = [
      send(
        'GET',
        origin,
        variant((u) => u.searchParams.set('sig', `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`)),
      ),
      send(
        'GET',
        origin,
        variant((u) => u.searchParams.delete('sig')),
      ),
      send(
        'GET',
        origin,
        variant((u) => u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600))),
      ),
      send(
        'GET',
        origin,
        variant((u) => u.searchParams.set('method', 'PUT')),
      ),
      send('PUT', origin, pathOf(url.href), 'overwrite'), // a GET grant used to write
      send('GET', origin, pathOf(url.href).replace('secret.txt', 'other.txt')),
    ];

    expect((await Promise.all(attempts)).map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403]);
    expect((await readAll((await blobs.get('secret.txt')).body)).toString()).toBe('secret');
  });

  it('answers 403 once the URL has expired by the store clock', async () => {
    const { clock, origin, blobs } = await setup();
    await blobs.put('soon.txt', 'gone soon');
    const url = await blobs.presign('soon.txt', { method: 'GET', expiresInSeconds: 60 });
    expect((await send('GET', origin, pathOf(url))).status).toBe(200);

    await clock.advance(61_000);

    const res = await send('GET', origin, pathOf(url));
    expect(res.status).toBe(403);
    expect(res.body).toMatch(/expired/);
  });

  it('answers 404 for a validly signed URL of a missing object', async () => {
    const { origin, blobs } = await setup();
    const url = await blobs.presign('never/written', { method: 'GET', expiresInSeconds: 60 });

    expect((await send('GET', origin, pathOf(url))).status).toBe(404);
  });

  it('rejects path traversal, raw or percent-encoded, with 400', async () => {
    const { dataDir, origin } = await setup();

    const paths = [
      '/blobs/artifacts/../../blob-signing.key?method=GET&expires=9999999999&sig=x',
      '/blobs/artifacts/%2e%2e/%2e%2e/blob-signing.key?method=GET&expires=9999999999&sig=x',
      '/blobs/artifacts/a%2F..%2F..%2Fetc?method=GET&expires=9999999999&sig=x',
      '/blobs/artifacts//etc/passwd?method=GET&expires=9999999999&sig=x',
      '/blobs/artifacts/a%5Cb?method=GET&expires=9999999999&sig=x',
    ];
    const statuses = await Promise.all(paths.map(async (path) => (await send('GET', origin, path)).status));

    expect(statuses).toEqual([400, 400, 400, 400, 400]);
    expect(await readdir(join(dataDir, 'blobs', 'objects'))).toEqual([]);
  });

  it('declines requests outside its mount or namespace, and answers 405 to other methods', async () => {
    const { origin, blobs } = await setup();
    await blobs.put('k', 'v');
    const url = await blobs.presign('k', { method: 'GET', expiresInSeconds: 60 });

    expect((await send('GET', origin, '/healthz')).status).toBe(UNHANDLED);
    expect((await send('GET', origin, pathOf(url).replace('/artifacts/', '/other-ns/'))).status).toBe(
      UNHANDLED,
    );
    expect((await send('GET', origin, pathOf(url).replace('/blobs/', '/blobsx/'))).status).toBe(UNHANDLED);
    expect((await send('DELETE', origin, pathOf(url))).status).toBe(405);
    expect((await blobs.head('k'))?.size).toBe(1);
  });

  it('mounted for a whole LocalStore, serves every namespace under its path prefix', async () => {
    const dataDir = await tempDataDir();
    const store = await tempStore({ dataDir });
    const { origin, mount } = await startServer();
    mount(createBlobRequestHandler(store, { pathPrefix: '/files' }));
    const logs = store.blobs({ namespace: 'logs', baseUrl: `${origin}/files` });
    const artifacts = store.blobs({ namespace: 'artifacts', baseUrl: `${origin}/files` });
    await logs.put('build.log', 'log text');
    await artifacts.put('pkg.tbz2', 'package');

    const [log, pkg, other] = await Promise.all([
      fetch(await logs.presign('build.log', { method: 'GET', expiresInSeconds: 60 })),
      fetch(await artifacts.presign('pkg.tbz2', { method: 'GET', expiresInSeconds: 60 })),
      send('GET', origin, '/elsewhere/logs/build.log'),
    ]);

    expect([log.status, await log.text()]).toEqual([200, 'log text']);
    expect([pkg.status, await pkg.text()]).toEqual([200, 'package']);
    expect(other.status).toBe(UNHANDLED);
  });
});
