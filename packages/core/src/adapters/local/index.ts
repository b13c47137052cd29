// `@spotjobs/core/local`: the embedded default backend, durable in one data directory with no
// AWS account: queues and tables in SQLite (node:sqlite), blobs as files, presigned URLs served
// by a node:http handler.
export {
  type BlobRequestHandler,
  type BlobRequestHandlerOptions,
  createBlobRequestHandler,
} from './blob-request-handler.ts';
export { FsBlobStore, type FsBlobStoreOptions, type PresignedCheck } from './fs-blob-store.ts';
export { LocalQueue, type LocalQueueOptions } from './local-queue.ts';
export { LOCAL_DATABASE_FILE, LocalStore, type LocalStoreOptions, openLocalStore } from './local-store.ts';
export { LocalTable } from './local-table.ts';
