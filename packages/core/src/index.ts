// `@spotjobs/core`: ports, errors, the runner and claims. Adapters have their own entry
// points (`@spotjobs/core/aws`, `@spotjobs/core/local`) so a local user never loads the AWS SDK.

export type { Claim, ClaimState } from './claims/claim.ts';
export { ClaimStore, type ClaimStoreOptions } from './claims/claim-store.ts';
export {
  type DeadLetterEntry,
  type ReplayDeadLettersOptions,
  type ReplayReport,
  replayDeadLetters,
} from './dead-letters/replay-dead-letters.ts';
export * from './errors.ts';
export { type RequestSignalOptions, requestSignal } from './http/request-signal.ts';
export {
  type CloseHttpServerOptions,
  type StartedHttpServer,
  type StartHttpServerOptions,
  startHttpServer,
} from './http/start-http-server.ts';
export {
  defaultSleepHookSocketPath,
  hibernationResumeMarker,
  ImdsInterruptionSource,
  type ImdsInterruptionSourceOptions,
  ManualInterruptionSource,
  ResumeDetector,
  type ResumeDetectorOptions,
  SignalInterruptionSource,
  type SignalInterruptionSourceOptions,
  SleepHookSource,
  type SleepHookSourceOptions,
} from './interruption/index.ts';
export { composeOnce } from './lambda/compose-once.ts';
export { invocationSignal, type LambdaDeadlineContext } from './lambda/invocation-signal.ts';
export { type CreateLoggerOptions, createLogger, silentLogger } from './observability/create-logger.ts';
export {
  type CheckVerdict,
  type HealthCheck,
  type HealthCheckResult,
  runnerRunningCheck,
} from './observability/health-checks.ts';
export {
  type HealthServer,
  type HealthServerOptions,
  startHealthServer,
} from './observability/health-server.ts';
export { Histogram } from './observability/histogram.ts';
export { defaultBuckets, exponentialBuckets } from './observability/histogram-buckets.ts';
export {
  Counter,
  Gauge,
  type HistogramOptions,
  type IncArgs,
  type LabelArgs,
  type LabelValues,
  type MetricKind,
  type MetricOptions,
  type ValueArgs,
} from './observability/metric-types.ts';
export { MetricsRegistry } from './observability/metrics.ts';
export { prometheusContentType } from './observability/prometheus-text.ts';
export { interruptionReactionBuckets, jobDurationBuckets } from './observability/runner-metric-set.ts';
export {
  type InstrumentRunnerOptions,
  instrumentRunner,
  type ObservableRunner,
} from './observability/runner-metrics.ts';
export {
  type SystemdNotifier,
  type SystemdNotifierOptions,
  type SystemdNotifySend,
  systemdNotifier,
} from './observability/systemd-notifier.ts';
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
export { assertBlobKey, BlobLimits, blobKeyProblem } from './ports/blob-store.ts';
export type { Clock, Timer } from './ports/clock.ts';
export type {
  InterruptionKind,
  InterruptionNotice,
  InterruptionSource,
  WatchOptions,
} from './ports/interruption-source.ts';
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
export type { BackoffOptions } from './runner/backoff.ts';
export type { CronTaskFn, CronTaskOptions, CronTaskRun } from './runner/cron-tasks.ts';
export type { HibernatePolicy, InterruptionOptions } from './runner/interruption-options.ts';
export type { PauseHold } from './runner/interruption-reactor.ts';
export {
  defineJob,
  type JobClaimOptions,
  type JobContext,
  type JobDefinition,
  type JobRoutes,
  type SingleJobDefinition,
} from './runner/job-definition.ts';
export { Runner, type RunnerStats, type StopOptions, type StopReason } from './runner/runner.ts';
export type {
  InterruptionReaction,
  JobRef,
  ReleaseReason,
  RevalidationTrigger,
  RunnerEvents,
  RunnerState,
} from './runner/runner-events.ts';
export type {
  RunnerOptions,
  RunnerSettings,
  SingleJobRunnerOptions,
  TypedRunnerOptions,
} from './runner/runner-options.ts';
export { systemClock } from './time/system-clock.ts';
