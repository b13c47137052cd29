// The server under test: the local request-API deployable as `node src/api-main.ts` composes
// it on the embedded default (configuration from `loadConfig`, a data dir of its own), in this
// process, on a free loopback port.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Table } from '@spotjobs/core';
import { type LocalStore, openLocalStore } from '@spotjobs/core/local';
import { type CompileConfig, loadConfig } from '../src/config.ts';
import {
  type LocalCompileServer,
  localServerSettings,
  startLocalCompileServer,
} from '../src/local/local-compile.ts';

/** The key the bench submits with (the server accepts only it). */
export const BENCH_API_KEY = 'bench-key-0123456789abcdef';

/** A running local compile server, its store and configuration. */
export interface BenchServer {
  readonly server: LocalCompileServer;
  readonly store: LocalStore;
  readonly config: CompileConfig;
  /** Closes the server, then the store, and removes the data dir. */
  close(): Promise<void>;
}

/**
 * Starts the local compile server with the deployable's defaults on a fresh data dir (on disk,
 * under the OS temp dir, as a real data dir would be: the embedded default fsyncs its writes).
 *
 * @example
 * ```ts
 * const bench = await startBenchServer();
 * await fetch(`${bench.server.url}/v1/builds/${id}`);
 * await bench.close();
 * ```
 */
export async function startBenchServer(
  options: {
    /** Wraps every table the server opens (to count what it writes); the bench's own reads are not wrapped. */
    readonly wrapTable?: (table: Table) => Table;
  } = {},
): Promise<BenchServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'spotjobs-compile-bench-'));
  const config = loadConfig({
    SPOTJOBS_COMPILE_API_KEYS: BENCH_API_KEY,
    SPOTJOBS_COMPILE_DATA_DIR: dataDir,
    SPOTJOBS_COMPILE_PORT: '0',
  });
  const store = await openLocalStore({ dataDir: config.local.dataDir });
  try {
    const server = await startLocalCompileServer({
      ...localServerSettings(config),
      host: config.http.host,
      port: config.http.port,
      store: options.wrapTable ? withWrappedTables(store, options.wrapTable) : store,
    });
    return {
      server,
      store,
      config,
      async close() {
        await server.close();
        await store.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** `store`, except that `table(name)` answers `wrap(store.table(name))`. */
function withWrappedTables(store: LocalStore, wrap: (table: Table) => Table): LocalStore {
  // A proxy, not a subclass: the store keeps its state in private fields only the real
  // instance can read, so every other member is bound to it.
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'table') return (name: string) => wrap(target.table(name));
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
