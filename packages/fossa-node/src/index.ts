// `@spotjobs/fossa-node`: Fossa's partitioned ETL on the spotjobs core: the model runtime
// (Aye-Aye semantics: Model, PartitionedModel, the registry, runModel, subtask dispatchers), the
// dataset connectors, the node (Fossa's HTTP contract, capacity, subtasks on the core Queue,
// task state in the Table, parent resume) and the web pages and gateway cluster view.

export { type ByteSink, openByteSink } from './datasets/byte-sink.ts';
export { datasetExists, readDatasetBytes } from './datasets/byte-source.ts';
export {
  CsvEncoder,
  type CsvRecord,
  checkCsvFieldNames,
  csvLine,
  csvRecords,
} from './datasets/csv-format.ts';
export { CsvParser, type CsvParserOptions, type CsvRow } from './datasets/csv-parser.ts';
export { Dataset, type OpenDatasetOptions, openDataset } from './datasets/dataset.ts';
export { type DatasetIoOptions, datasetIoDefaults } from './datasets/dataset-io.ts';
export {
  type DatasetCompression,
  type DatasetFormat,
  type DatasetLocation,
  type DatasetStorage,
  type DatasetUriOptions,
  datasetFormats,
  parseDatasetUri,
  s3BucketNameProblem,
} from './datasets/dataset-uri.ts';
export { DatasetWriter, type WriteSummary } from './datasets/dataset-writer.ts';
export { jsonErrorPosition } from './datasets/json-error-position.ts';
export { JsonArrayEncoder, jsonDocumentRecords, readJsonDocument } from './datasets/json-format.ts';
export { readLines, type TextLine } from './datasets/line-reader.ts';
export { NdjsonEncoder, ndjsonRecords } from './datasets/ndjson-format.ts';
export type { RecordEncoder } from './datasets/record-encoder.ts';
export { InProcessDispatcher, type InProcessDispatcherOptions } from './dispatch/in-process-dispatcher.ts';
export { type Permit, Semaphore } from './dispatch/semaphore.ts';
export {
  checkDispatchRequest,
  type DispatchRequest,
  releasingSlotWhileWaiting,
  type SubtaskDispatcher,
  type SubtaskOutcome,
  subtaskId,
} from './dispatch/subtask-dispatcher.ts';
// Distribution: subtasks on the core Queue, task state in the Table
export type { DistributionHooks } from './distribution/distribution-hooks.ts';
export { OutcomeSignals } from './distribution/outcome-signals.ts';
export { QueueDispatcher, type QueueDispatcherOptions } from './distribution/queue-dispatcher.ts';
export { type SubtaskJobOptions, subtaskJob } from './distribution/subtask-job.ts';
export { type SubtaskMessage, subtaskMessageSchema } from './distribution/subtask-message.ts';
export {
  asJson,
  indexEntryOf,
  indexOfSortKey,
  isFinished,
  type NodeHeartbeat,
  type SubtaskOutcomeRecord,
  specOf,
  statusOf,
  type TaskIndexEntry,
  TaskKeys,
  type TaskRecord,
  type TaskRecordStatus,
} from './distribution/task-records.ts';
export { defaultHistoryLimit, type ParentProgress, TaskStore } from './distribution/task-store.ts';
export * from './errors.ts';
export { DatasetCopyEtl } from './examples/dataset-copy-etl.ts';
export { exampleModelRegistry, exampleModels } from './examples/example-models.ts';
export { HalfSecondEtl } from './examples/half-second-etl.ts';
export { LongRunningEtl } from './examples/long-running-etl.ts';
export { NothingEtl } from './examples/nothing-etl.ts';
export { PartialFailure, ZeroDivisionError } from './examples/partial-failure.ts';
export { cryptoChallenge, PartitionedExampleEtl } from './examples/partitioned-example-etl.ts';
export { SecondTimeLucky, ValueError } from './examples/second-time-lucky.ts';
export { StaggeredEtl } from './examples/staggered-etl.ts';
// Web pages and the gateway's cluster view
export { AuthFailureLimiter, type AuthFailureLimiterOptions } from './gateway/auth-failure-limiter.ts';
export {
  AwsEcsTaskLister,
  type AwsEcsTaskListerOptions,
  type EcsSender,
  ecsTaskView,
} from './gateway/aws-ecs-task-lister.ts';
export {
  BASIC_AUTH_REALM,
  type BasicAuthOutcome,
  BasicAuthVerifier,
  parseBasicAuthorization,
  WWW_AUTHENTICATE,
} from './gateway/basic-auth.ts';
export { CachedEcsTaskLister } from './gateway/cached-ecs-task-lister.ts';
export { ecsTaskId, FOSSA_NODE_PORT, mergeClusterNodes } from './gateway/cluster-nodes.ts';
export { ECS_LISTING_TTL_MS, startConfiguredGateway } from './gateway/configured-gateway.ts';
export type { EcsTaskLister } from './gateway/ecs-task-lister.ts';
export { type GatewayBackendConfig, type GatewayConfig, gatewayConfig } from './gateway/gateway-config.ts';
export { createGatewayPages, type GatewayPagesOptions, gatewayLinks } from './gateway/gateway-pages.ts';
export {
  type GatewayServer,
  type GatewayServerOptions,
  startGatewayServer,
} from './gateway/gateway-server.ts';
export { openGatewayTable } from './gateway/gateway-table.ts';
export { Model, type ModelDatasetOptions } from './model/model.ts';
export {
  createModelContext,
  defaultMaxConcurrentTasks,
  type ModelContext,
  type ModelEnvironment,
  type ModelRunIdentity,
  type RuntimeKnowledge,
} from './model/model-context.ts';
export { isModelLogLevel, type ModelLogLevel, modelLogLevels, writeModelLog } from './model/model-log.ts';
export { type ModelClass, ModelRegistry } from './model/model-registry.ts';
export { ModelStats, type StatsSnapshot, type TimerStats } from './model/model-stats.ts';
export {
  checkPartitionOption,
  PartitionedModel,
  PartitionLimits,
  type PartitionOption,
  type SubtaskSlice,
  subtaskSpecs,
  type TaskPartition,
  workersCount,
} from './model/partitioned-model.ts';
export { ResolverContext, type ResolverValue, resolverContextProblems } from './model/resolver-context.ts';
export { type ModelRun, type ModelRunResult, runModel } from './model/run-model.ts';
export {
  exceptionClassName,
  type TaskComplete,
  type TaskCompletePayload,
  type TaskFailed,
  type TaskFailedPayload,
  type TaskResultMessage,
  taskComplete,
  taskFailed,
  tracebackOf,
} from './model/task-messages.ts';
export { checkTaskSpec, type TaskSpec, type TaskSpecInput, TaskSpecLimits } from './model/task-spec.ts';
export { isJsonObject, toWireJson, toWireObject } from './model/wire-json.ts';
// The node: HTTP API, capacity, the daemon
export {
  ECS_METADATA_TIMEOUT_MS,
  type EcsTaskIdentity,
  parseEcsTaskIdentity,
  readEcsTaskIdentity,
} from './node/ecs-task-identity.ts';
export {
  acceptedExamples,
  type FossaDaemon,
  type FossaDaemonDependencies,
  localQueueName,
  localTableName,
  startFossaDaemon,
} from './node/fossa-daemon.ts';
export { FossaNode, type FossaNodeOptions, newTaskId, type SubmitOutcome } from './node/fossa-node.ts';
export { defaultRecentTasks, NodeActivity } from './node/node-activity.ts';
export { apiBase, handleNodeApi, type NodeApiRequest, type NodeApiResponse } from './node/node-api.ts';
export {
  type ExtraRequestHandler,
  type NodeServer,
  type NodeServerOptions,
  startNodeServer,
} from './node/node-server.ts';
export { TableReadModel, type TableReadModelOptions } from './node/table-read-model.ts';
export { httpDate, taskSummary } from './node/task-summary.ts';
export {
  EXIT_BAD_CONFIG,
  loadNodeConfig,
  loadNodeConfigOrExit,
  type NodeBackendConfig,
  type NodeConfig,
} from './node-config.ts';
export { escapeHtml, Html, type HtmlValue, hrefSegment, html, rawHtml } from './web/html.ts';
export { InMemoryClusterReadModel } from './web/in-memory-cluster-read-model.ts';
export { createNodePages, type NodePagesOptions, nodeInfoTable } from './web/node-pages.ts';
export {
  createPageHandler,
  type PageHandler,
  type PageHandlerOptions,
  type PageRequest,
  pathId,
} from './web/page-handler.ts';
export { pageLayout, STYLESHEET_PATH, sendHtml, sendStylesheet, sendText } from './web/page-layout.ts';
export {
  jsonCell,
  keyValueTable,
  nextPageLink,
  nodeLink,
  nodePageLinks,
  type PageLinks,
  statusCell,
  taskLink,
  taskTable,
  timeCell,
} from './web/page-parts.ts';
export {
  type ClusterReadModel,
  type EcsTaskView,
  type NodeSource,
  type NodeView,
  type SubtaskStatus,
  type SubtaskView,
  type TaskPage,
  TaskPageLimits,
  type TaskQuery,
  type TaskStatus,
  type TaskSummary,
  type TaskView,
} from './web/read-model.ts';
export { readTaskLists, type TaskLists, taskListSections } from './web/task-lists.ts';
export { answerTaskPage, taskPage } from './web/task-page.ts';
export { checkTaskQuery, offsetCursor, offsetFromCursor, pageParams } from './web/task-paging.ts';
