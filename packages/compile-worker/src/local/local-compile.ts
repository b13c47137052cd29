import type { Clock, Logger } from '@spotjobs/core';
import { createBlobRequestHandler, type FsBlobStore, type LocalStore } from '@spotjobs/core/local';
import { CompileApi } from '../api/compile-api.ts';
import type { BuildPolicy } from '../build/build-policy.ts';
import { BuildService } from '../build/build-service.ts';
import { BuildStorageNames } from '../build/build-storage.ts';
import type { BuilderProfile } from '../build/builder-profile.ts';
import type { CompileConfig } from '../config.ts';
import { type CompileServer, startCompileServer } from '../http/compile-server.ts';

export interface LocalBuildServiceOptions {
  readonly store: LocalStore;
  readonly profile: BuilderProfile;
  /** Default `compile` (its dead-letter queue: `compile-dlq`). */
  readonly queueName?: string;
  /** Default `spotjobs-compile`. */
  readonly tableName?: string;
  readonly policy?: Partial<BuildPolicy>;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/**
 * The build state machine on the embedded default backend: the same queue and table names in
 * every process that opens the same data directory (API server, build daemon).
 *
 * @example
 * ```ts
 * const store = await openLocalStore({ dataDir: '/var/lib/spotjobs-compile' });
 * const builds = localBuildService({ store, profile });
 * ```
 */
export function localBuildService(options: LocalBuildServiceOptions): BuildService {
  return new BuildService({
    table: options.store.table(options.tableName ?? 'spotjobs-compile'),
    queue: options.store.queue(options.queueName ?? 'compile'),
    profile: options.profile,
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

/**
 * The artifact and log blobs on the embedded default backend. Presigning needs `baseUrl`, the URL
 * of the server that mounts `createBlobRequestHandler` (the compile server does, under `/blobs`).
 */
export function localBuildBlobs(store: LocalStore, serverUrl?: string): FsBlobStore {
  return store.blobs({
    namespace: BuildStorageNames.blobNamespace,
    ...(serverUrl ? { baseUrl: `${serverUrl}${BuildStorageNames.blobPath}` } : {}),
  });
}

/**
 * The local server's settings from the configuration (everything but the store, the address
 * and the logger), so every caller composes it the same way.
 *
 * @example
 * ```ts
 * await startLocalCompileServer({ ...localServerSettings(config), store, port: config.http.port });
 * ```
 */
export function localServerSettings(
  config: CompileConfig,
): Omit<LocalCompileServerOptions, 'store' | 'host' | 'port' | 'publicUrl' | 'logger' | 'clock'> {
  return {
    profile: config.profile,
    policy: config.policy,
    queueName: config.local.queueName,
    tableName: config.local.tableName,
    apiKeys: config.api.apiKeys,
    apiKeySha256: config.api.apiKeySha256,
    openReads: config.api.openReads,
    stage: config.api.stage,
    presignSeconds: config.api.presignSeconds,
  };
}

export interface LocalCompileServerOptions extends LocalBuildServiceOptions {
  readonly apiKeys: readonly string[];
  /** More keys, by their SHA-256 digests (hex). */
  readonly apiKeySha256?: readonly string[];
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  readonly publicUrl?: string;
  readonly openReads?: boolean;
  readonly stage?: string;
  readonly presignSeconds?: number;
}

/** A running local compile server and what it serves. */
export interface LocalCompileServer extends CompileServer {
  readonly builds: BuildService;
  readonly blobs: FsBlobStore;
  readonly api: CompileApi;
}

/**
 * The request API on the embedded default backend: one node:http server for the compat and clean
 * APIs and for the presigned artifact and log URLs it hands out. The store stays the caller's to
 * close (after the server).
 *
 * @example
 * ```ts
 * const server = await startLocalCompileServer({ store, profile, apiKeys: ['k-0123456789abcdef'], port: 8080 });
 * // GET http://127.0.0.1:8080/LATEST/package?package=app-misc/ranger&version=1.8.1&useflag=
 * await server.close();
 * ```
 */
export async function startLocalCompileServer(
  options: LocalCompileServerOptions,
): Promise<LocalCompileServer> {
  const builds = localBuildService(options);
  let blobs: FsBlobStore | undefined;
  let api: CompileApi | undefined;
  const server = await startCompileServer({
    ...(options.host ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    setup(baseUrl) {
      blobs = localBuildBlobs(options.store, baseUrl);
      api = new CompileApi({
        builds,
        blobs,
        apiKeys: options.apiKeys,
        ...(options.apiKeySha256 ? { apiKeySha256: options.apiKeySha256 } : {}),
        ...(options.openReads !== undefined ? { openReads: options.openReads } : {}),
        ...(options.stage ? { stage: options.stage } : {}),
        ...(options.presignSeconds ? { presignSeconds: options.presignSeconds } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      });
      return { api, blobs: createBlobRequestHandler(blobs) };
    },
  });
  return { ...server, close: () => server.close(), builds, blobs: blobs!, api: api! };
}
