// The build executor: Pacloud's two emerge steps in a fresh container (or host processes).
export { BuildEngineError, type BuildEngineStage } from './build-engine-error.ts';
export type {
  BuildArtifact,
  BuildDurations,
  BuildExecutor,
  BuildFailure,
  BuildFailureReason,
  BuildImage,
  BuildLog,
  BuildLogLine,
  BuildRequest,
  BuildResult,
  BuildStepName,
  BuildSuccess,
} from './build-executor.ts';
export { type BuildStep, buildSteps, isBinpkgOf } from './build-steps.ts';
export {
  assertJobId,
  assertUseFlags,
  type BuildTarget,
  parseBuildTarget,
} from './build-target.ts';
export {
  BuildLabels,
  ContainerBuildExecutor,
  type ContainerBuildExecutorOptions,
} from './container-build-executor.ts';
export { CONTAINER_OUTPUT_PKGDIR } from './container-sandbox.ts';
export { dockerEngineAnswers } from './engine-probe.ts';
export {
  type EnsuredImage,
  type EnsureImageOptions,
  ensureImage,
  type ImageApi,
  type PullProgress,
  type RegistryAuth,
} from './image-puller.ts';
export { ProcessBuildExecutor, type ProcessBuildExecutorOptions } from './process-build-executor.ts';
