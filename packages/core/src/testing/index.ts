// `@spotjobs/core/testing`: what tests of spotjobs and of its users need. The conformance
// suites declare vitest tests, so this entry point is for use inside a vitest run; scripts
// outside one (benchmarks, child processes) import `emulators.ts`, `bench-report.ts` and
// `bench-stats.ts` directly.
export {
  formatSummary,
  type ReportRow,
  renderTable,
} from './bench-report.ts';
export { percentile, type Summary, summarise } from './bench-stats.ts';
export { type BlobStoreConformanceSubject, blobStoreConformance } from './blob-store-conformance.ts';
export {
  awsTestClientConfig,
  type EmulatorEndpoints,
  type RunningEmulators,
  startEmulators,
} from './emulators.ts';
export {
  type ImdsRequestFilter,
  type ImdsStandIn,
  type ImdsStandInOptions,
  type StandInInstanceAction,
  type StandInRebalance,
  startImdsStandIn,
} from './imds-stand-in.ts';
export {
  type JsonLogProcess,
  type JsonLogProgramOptions,
  startJsonLogProcess,
  startJsonLogProgram,
} from './json-log-process.ts';
export { ManualClock } from './manual-clock.ts';
export { type QueueConformanceSubject, queueConformance } from './queue-conformance.ts';
export { type LogLine, recordingLogger } from './recording-logger.ts';
export { type TableConformanceSubject, tableConformance } from './table-conformance.ts';
