// `@spotjobs/core`: ports, errors, the runner and claims. Adapters have their own entry
// points (`@spotjobs/core/aws`, `@spotjobs/core/local`) so a local user never loads the AWS SDK.
export * from './errors.ts';
export { type CreateLoggerOptions, createLogger, silentLogger } from './observability/create-logger.ts';
export type {
  BlobBody,
  BlobInfo,
  BlobObject,
  BlobPage,
  BlobStore,
  ListBlobsOptions,
  PresignOptions,
  PutBlobOptions,
} from './ports/blob-store.ts';
export { assertBlobKey, blobKeyProblem } from './ports/blob-store.ts';
export type { Clock, Timer } from './ports/clock.ts';
export type { LogFn, Logger } from './ports/logger.ts';
export type {
  ConsumeOptions,
  LeaseExtension,
  LeaseRelease,
  LeaseResult,
  OutgoingMessage,
  Queue,
  QueueDepth,
  QueueMessage,
  ReceiveOptions,
} from './ports/queue.ts';
export { DeadLetterAttributes, QueueLimits } from './ports/queue.ts';
export type {
  JsonObject,
  JsonValue,
  QueryOptions,
  Table,
  TableItem,
  TableKey,
  TablePage,
  WriteCondition,
} from './ports/table.ts';
export { TableLimits } from './ports/table.ts';
export { systemClock } from './time/system-clock.ts';
