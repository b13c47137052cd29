/**
 * Names every compile-farm process agrees on (request API, build daemon, CLI) on the embedded
 * default backend: the blob namespace of artifacts and logs, and the default queue and table.
 */
export const BuildStorageNames = {
  /** `LocalStore.blobs({ namespace })` of artifacts (`packages/…`) and logs (`logs/…`). */
  blobNamespace: 'compile',
  /** Path under which the local HTTP server serves presigned blob URLs. */
  blobPath: '/blobs',
} as const;
