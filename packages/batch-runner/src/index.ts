// `@spotjobs/batch-runner`: SCAR's architrave runner and af-user's cluster requests on the
// spotjobs core: one container entrypoint for Lambda, Batch single-node and multi-node parallel
// jobs, the S3-triggered job submission, and self-service cluster requests. The Lambda entry
// files (src/triggers/lambda-entry.ts, src/clusters/lambda-entry.ts) and the runner's entry
// (src/runner-main.ts) compose these from the environment.
// The runner (container entrypoint spotjobs-batch-runner): modes, runs, exit codes

// Ports to AWS services without an emulator (Batch, CloudFormation, SES)
export { AwsBatchJobs, type AwsBatchJobsOptions, submitJobInput } from './aws-ports/aws-batch-jobs.ts';
export {
  type AwsErrorClassifier,
  type AwsRetryOptions,
  awsErrorName,
  callAws,
} from './aws-ports/aws-call.ts';
export type { BatchJobs, JobSubmission, SubmittedJob } from './aws-ports/batch-jobs.ts';
export {
  CloudFormationClusterStacks,
  type CloudFormationClusterStacksOptions,
  createStackInput,
  rootCause,
} from './aws-ports/cloudformation-cluster-stacks.ts';
export {
  type ClusterStacks,
  type StackInfo,
  StackRejectedError,
  type StackSpec,
} from './aws-ports/cluster-stacks.ts';
export { MemoryBatchJobs, type MemoryBatchJobsOptions } from './aws-ports/memory-batch-jobs.ts';
export {
  MemoryClusterStacks,
  type MemoryStackScript,
  type SeededStack,
} from './aws-ports/memory-cluster-stacks.ts';
export { MemoryNotifier } from './aws-ports/memory-notifier.ts';
export { type ClusterNotice, LogNotifier, type Notifier } from './aws-ports/notifier.ts';
export { SesNotifier, type SesNotifierOptions, sendEmailInput } from './aws-ports/ses-notifier.ts';
// Self-service clusters (af-user)
export { type CreatePlan, clusterCreateSteps } from './clusters/cluster-create.ts';
export { clusterDeleteSteps, type DeletePlan } from './clusters/cluster-delete.ts';
export {
  type ClusterAction,
  type ClusterRequestKey,
  ClusterSuffix,
  clusterKeyProblems,
  isClusterUid,
  parseClusterKey,
  STACK_NAME_MAX,
  stackNameFor,
  stackPrefixProblem,
} from './clusters/cluster-key.ts';
export { answerBody, type ClusterAnswer, finishClusterRequest } from './clusters/cluster-outcome.ts';
export {
  afUserParameterPolicy,
  type EnumRule,
  type NumericRule,
  overridableNames,
  type ParameterPolicy,
  type ParameterRule,
  parameterPolicyProblems,
  parameterPolicySchema,
  resolveParameters,
  type TextRule,
} from './clusters/cluster-parameters.ts';
export {
  type ClusterRequest,
  clusterAdmissionSteps,
  clusterStackTags,
  minutes,
  refuseClusterRequest,
  stackOwner,
  stackRequestToken,
  validateClusterRecord,
} from './clusters/cluster-request.ts';
export type { ClusterPorts, ClusterSettings } from './clusters/cluster-settings.ts';
export {
  type ClusterTriggerOverrides,
  type ClusterTriggers,
  composeClusterTriggers,
} from './clusters/compose-cluster-triggers.ts';
export { type RequestBody, readRequestBody } from './clusters/request-body.ts';
export {
  type StackPhase,
  type StackWaitOptions,
  type StackWaitResult,
  stackFailure,
  stackPhase,
  waitForStack,
} from './clusters/stack-wait.ts';
// Multi-node: rendezvous, hostfile, node identity
export { runChildNode } from './multinode/child-node.ts';
export { formatHostfile } from './multinode/hostfile.ts';
export { runMainNode } from './multinode/main-node.ts';
export {
  type NodeIdentity,
  type NodeIdentitySources,
  nodeAddress,
  nodeSlots,
} from './multinode/node-identity.ts';
export {
  type JoinOutcome,
  RendezvousClient,
  type RendezvousClientOptions,
} from './multinode/rendezvous-client.ts';
export {
  type DoneAnswer,
  doneAnswerSchema,
  type FinishedReport,
  finishedSchema,
  MAX_BODY_BYTES,
  type Registration,
  RendezvousPaths,
  registrationSchema,
} from './multinode/rendezvous-protocol.ts';
export {
  type JoinedNode,
  RendezvousServer,
  type RendezvousServerOptions,
} from './multinode/rendezvous-server.ts';
export { carriesToken, rendezvousToken } from './multinode/rendezvous-token.ts';
export { backoffDelayMs, type RetryBackoff, registrationBackoff } from './multinode/retry-backoff.ts';
export { type AppPaths, appCommand, appEnvironment, appPaths } from './run/app-command.ts';
export { type AppExit, type RunningApp, type StartAppOptions, startApp } from './run/app-process.ts';
export { type ArgvPlaceholders, fillPlaceholders, parseArgvWords } from './run/argv-words.ts';
export { type RunnerExitCode, RunnerExitCodes } from './run/exit-codes.ts';
export { runJob } from './run/run-job.ts';
export { type RunDeps, type RunOutcome, RunSession } from './run/run-session.ts';
export { prepareWorkspace, RunFiles, type RunWorkspace } from './run/run-workspace.ts';
export {
  AppLaunchError,
  InputRefusedError,
  RendezvousError,
  RunnerError,
  SecretResolutionError,
  StorageError,
} from './run/runner-errors.ts';
export { formatTimeLog, type TimeLogEntry } from './run/time-log.ts';
export {
  loadRunnerConfig,
  loadRunnerConfigOrExit,
  type NodeRole,
  type RunnerConfig,
} from './runner-config.ts';
// Secrets from Secrets Manager or SSM, redacted from output
export { AwsSecretResolver, type AwsSecretResolverOptions } from './secrets/aws-secret-resolver.ts';
export { REDACTED, Redactor } from './secrets/redactor.ts';
export {
  describeSecretReference,
  parseSecretReference,
  type SecretReference,
} from './secrets/secret-reference.ts';
export { pickSecretField, resolveSecrets, type SecretResolver } from './secrets/secret-resolver.ts';
// S3 staging and outputs
export { type ArchiveKind, archiveKindOf } from './staging/archive-kind.ts';
export { type ArchiveLimits, ArchiveWriter, entryNameProblem } from './staging/archive-writer.ts';
export { byteLimit } from './staging/byte-limit.ts';
export { extractArchive } from './staging/extract-archive.ts';
export {
  folderOf,
  formatS3Uri,
  inputKeyProblem,
  isUnderPrefixes,
  parseS3Uri,
  type S3Location,
} from './staging/s3-location.ts';
export {
  type BlobStoreForBucket,
  type InputPlan,
  type StagedInputs,
  stageInputs,
} from './staging/stage-inputs.ts';
export { type UploadOutputsOptions, type UploadSummary, uploadOutputs } from './staging/upload-outputs.ts';
export {
  type ClusterTriggerConfig,
  type JobTriggerConfig,
  loadClusterTriggerConfig,
  loadJobTriggerConfig,
  type TriggerCommonConfig,
} from './trigger-config.ts';
export { Admission, type AdmissionOptions } from './triggers/admission.ts';
// Triggers: S3 ObjectCreated → SubmitJob, the shared admission core
export type {
  ActionContext,
  AdmissionReport,
  AdmissionSteps,
  Decision,
  Invocation,
  KeyVerdict,
  RecordOutcome,
  RecordResult,
} from './triggers/admission-types.ts';
export {
  composeJobTrigger,
  type JobTriggerOverrides,
  TRIGGER_CLAIM_PARTITION,
} from './triggers/compose-job-trigger.ts';
export { TriggerJobEnv } from './triggers/job-environment.ts';
export {
  type JobPlan,
  type JobRoute,
  type JobTriggerSettings,
  jobNameFor,
  planJob,
  routeFor,
} from './triggers/job-routes.ts';
export { type JobRequest, jobSubmissionSteps } from './triggers/job-submission.ts';
export {
  createS3LambdaHandler,
  type LambdaContextLike,
  type S3EventHandler,
  type S3LambdaHandler,
} from './triggers/lambda-handler.ts';
export { type ObjectVersion, objectVersionId, objectVersionOf } from './triggers/object-version.ts';
export {
  decodeS3EventKey,
  isObjectCreated,
  parseS3Event,
  type S3EventProblem,
  type S3ObjectEvent,
} from './triggers/s3-event.ts';
export { ObjectBusyError, RetryRecordsError } from './triggers/trigger-errors.ts';
