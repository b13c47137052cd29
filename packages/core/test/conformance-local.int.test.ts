// The port conformance suites against the local (embedded) adapters: one data directory per
// test, so tests and files run in parallel without sharing state.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBlobRequestHandler, openLocalStore } from '../src/adapters/local/index.ts';
import { blobStoreConformance } from '../src/testing/blob-store-conformance.ts';
import { queueConformance } from '../src/testing/queue-conformance.ts';
import { tableConformance } from '../src/testing/table-conformance.ts';

async function openFreshStore() {
  const dataDir = await mkdtemp(join(tmpdir(), 'spotjobs-conformance-'));
  const store = await openLocalStore({ dataDir });
  return {
    store,
    async dispose() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

queueConformance('LocalQueue', async () => {
  const { store, dispose } = await openFreshStore();
  const name = `jobs-${randomUUID().slice(0, 8)}`;
  return {
    queue: store.queue(name, { deadLetterQueue: `${name}-dead` }),
    deadLetterQueue: store.queue(`${name}-dead`),
    dispose,
  };
});

tableConformance('LocalTable', async () => {
  const { store, dispose } = await openFreshStore();
  return { table: store.table(`items-${randomUUID().slice(0, 8)}`), dispose };
});

blobStoreConformance('FsBlobStore', async () => {
  const { store, dispose } = await openFreshStore();
  // Presigned URLs of the local store are served by our own HTTP handler, as a daemon would.
  let handle: ReturnType<typeof createBlobRequestHandler> | undefined;
  const server = createServer((req, res) => {
    (handle ? handle(req, res) : Promise.resolve(false)).then(
      (handled) => {
        if (!handled) res.writeHead(404).end();
      },
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const blobs = store.blobs({ namespace: `ns-${randomUUID().slice(0, 8)}`, baseUrl });
  handle = createBlobRequestHandler(blobs);
  return {
    store: blobs,
    async dispose() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dispose();
    },
  };
});
