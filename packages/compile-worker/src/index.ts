// `@spotjobs/compile-worker`: the Pacloud-compatible compile farm: the request path (grammar,
// identity, build state machine, queue message, the compile API and its two transports), the
// build executors, the build daemon with its maintenance, and the command-line client.

// The compile API and its transports
export { type ApiRequest, type ApiResponse, jsonResponse, parseQuery } from './api/api-request.ts';
export {
  ApiKeyVerifier,
  type Authentication,
  describePrincipal,
  type Principal,
  presentedApiKey,
} from './api/auth.ts';
export { parseBuildSubmission } from './api/build-submission.ts';
export { toBuildView } from './api/build-view.ts';
export { type CompatQuery, parseCompatQuery } from './api/compat-query.ts';
export { decodeCompatUseflag, splitCompatKeywords } from './api/compat-useflag.ts';
export { CompileApi, type CompileApiOptions } from './api/compile-api.ts';
export {
  type ApiGatewayProxyEvent,
  type ApiGatewayProxyResult,
  eventToApiRequest,
  platformPrincipalOf,
  toProxyResult,
} from './aws/api-gateway-event.ts';
export {
  type AwsClients,
  type AwsCompileBackend,
  awsCompileApi,
  awsCompileBackend,
} from './aws/aws-compile.ts';
export { createLambdaHandler, type LambdaContextLike } from './aws/lambda-handler.ts';
// Builds: spec, identity, message, state machine
export { type Admission, type AdmissionOutcome, type AdmitOptions, admitBuild } from './build/admission.ts';
export { artifactBlobKey, type BinaryPackageFormat, buildLogBlobKey } from './build/blob-keys.ts';
export type { BuildContext } from './build/build-context.ts';
export { BUILD_ID_ATTRIBUTE } from './build/build-dispatch.ts';
export { BUILD_ID_PATTERN, BUILD_IDENTITY_SCHEME, buildIdentity } from './build/build-identity.ts';
export {
  type BuildMessage,
  buildClaimKey,
  buildMessageSchema,
  COMPILE_JOB_TYPE,
  toBuildMessage,
} from './build/build-message.ts';
export { type BuildPolicy, defaultBuildPolicy, resolveBuildPolicy } from './build/build-policy.ts';
export {
  type AttemptRecord,
  BUILD_STATES,
  type BuildRecord,
  type BuildState,
  buildRecordSchema,
  type DispatchMarker,
  type VersionedBuild,
} from './build/build-record.ts';
export { BuildRepository, stateKey } from './build/build-repository.ts';
export { BUILD_CLAIMS_PARTITION, BuildService, type BuildServiceOptions } from './build/build-service.ts';
export { type BuildSpec, cpvOf, type SpecFields, toBuildSpec, useTextOf } from './build/build-spec.ts';
export { BuildStorageNames } from './build/build-storage.ts';
export {
  type BuildArtifact,
  type BuildOwner,
  type BuildRef,
  completeBuild,
  failBuild,
  releaseBuild,
  type StartResult,
  startBuild,
} from './build/build-transitions.ts';
export { type BuilderProfile, builderProfileSchema, UNPINNED_IMAGE } from './build/builder-profile.ts';
export { type ReclaimReport, reclaimStuckBuilds } from './build/reclaim-stuck-builds.ts';
// The command-line client (spotjobs-compile)
export { CompileApiClient, type CompileApiClientOptions, type Submission } from './cli/api-client.ts';
export {
  type ArtifactLink,
  artifactLinkSchema,
  type BuildView,
  buildViewSchema,
  type LogLink,
  logLinkSchema,
} from './cli/api-schemas.ts';
export {
  ArtifactMismatchError,
  CliError,
  CliUsageError,
  CompileApiError,
  InvalidServerResponseError,
  ServerUnreachableError,
  WaitTimeoutError,
} from './cli/cli-errors.ts';
export { type CliContext, runCli } from './cli/cli-run.ts';
export { type DownloadedFile, type DownloadOptions, downloadArtifact } from './cli/download.ts';
export { CliExitCode } from './cli/exit-codes.ts';
export {
  type CompileConfig,
  EXIT_BAD_CONFIG,
  loadConfig,
  loadConfigOrExit,
  type WorkerConfig,
} from './config.ts';
// The build daemon
export { type BuildJobOptions, type BuildJobOutcome, buildJob } from './daemon/build-job.ts';
export { chooseExecutor } from './daemon/choose-executor.ts';
export {
  COMPILE_MAX_DELIVERIES,
  type CompileDaemonOptions,
  createCompileDaemon,
} from './daemon/compile-daemon.ts';
export {
  type CompileWorker,
  type CompileWorkerOptions,
  startCompileWorker,
} from './daemon/compile-worker.ts';
export { imageMatchesProfile } from './daemon/image-profile.ts';
export { compileMaintenance, type Maintenance, type MaintenanceOptions } from './daemon/maintenance-tasks.ts';
export {
  BuildNotFoundError,
  BuildNotReadyError,
  CompileRequestError,
  type FieldProblem,
  InvalidRequestError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  UnauthorizedError,
} from './errors.ts';
// The build executors (Docker and process)
export * from './executor/index.ts';
// Gentoo grammar and USE normalisation
export {
  type GrammarResult,
  type PackageVersion,
  parseQualifiedName,
  parseVersionedAtom,
} from './gentoo/atom.ts';
export { describeCharacter, quoteValue } from './gentoo/grammar-text.ts';
export { GentooLimits } from './gentoo/limits.ts';
export { categoryProblem, packageNameProblem } from './gentoo/package-names.ts';
export {
  type NormalisedUse,
  normaliseUse,
  splitUse,
  type UseParseResult,
  useFlagProblem,
} from './gentoo/use-flags.ts';
export { VERSION_PATTERN, versionProblem } from './gentoo/version.ts';
export {
  type CompileServer,
  type CompileServerOptions,
  type CompileServerRoutes,
  startCompileServer,
} from './http/compile-server.ts';
export { readApiRequest, sendApiResponse } from './http/node-request.ts';
export {
  type LocalBuildServiceOptions,
  type LocalCompileServer,
  type LocalCompileServerOptions,
  localBuildBlobs,
  localBuildService,
  localServerSettings,
  startLocalCompileServer,
} from './local/local-compile.ts';
// Maintenance (the daemon's cron tasks)
export * from './maintenance/index.ts';
