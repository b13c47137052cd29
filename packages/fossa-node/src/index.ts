// `@spotjobs/fossa-node`: Fossa's partitioned ETL on the spotjobs core. This slice is the
// model runtime (Aye-Aye semantics: Model, PartitionedModel, the registry, runModel, subtask
// dispatchers) and the dataset connectors; the node (HTTP, queue, table) builds on it.

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
  type DispatchRequest,
  releasingSlotWhileWaiting,
  type SubtaskDispatcher,
  type SubtaskOutcome,
} from './dispatch/subtask-dispatcher.ts';
export * from './errors.ts';
export { exampleModelRegistry, exampleModels } from './examples/example-models.ts';
export { HalfSecondEtl } from './examples/half-second-etl.ts';
export { LongRunningEtl } from './examples/long-running-etl.ts';
export { NothingEtl } from './examples/nothing-etl.ts';
export { PartialFailure, ZeroDivisionError } from './examples/partial-failure.ts';
export { cryptoChallenge, PartitionedExampleEtl } from './examples/partitioned-example-etl.ts';
export { SecondTimeLucky, ValueError } from './examples/second-time-lucky.ts';
export { StaggeredEtl } from './examples/staggered-etl.ts';
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
