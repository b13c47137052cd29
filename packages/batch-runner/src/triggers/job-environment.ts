/**
 * The environment a triggered job gets on top of its job definition's: where its input is
 * and where its outputs go. The runner (`spotjobs-batch-runner`) reads these names.
 *
 * | variable | value |
 * |---|---|
 * | `SPOTJOBS_INPUT_URI` | `s3://<bucket>/<key>` of the object that triggered the job (the key decoded, as stored) |
 * | `SPOTJOBS_INPUT_VERSION_ID` | its version id (versioned buckets only), for the job's records |
 * | `SPOTJOBS_INPUT_ETAG` | its ETag from the event: the runner refuses an object that changed since (a newer version under the key) |
 * | `SPOTJOBS_OUTPUT_URI` | `s3://<bucket>/<output prefix><job name>/`: this job's own output prefix |
 * | `SPOTJOBS_TRIGGER_ID` | the object version's id (64 hex), also the job's `spotjobs:trigger-id` tag |
 */
export const TriggerJobEnv = {
  inputUri: 'SPOTJOBS_INPUT_URI',
  inputVersionId: 'SPOTJOBS_INPUT_VERSION_ID',
  inputETag: 'SPOTJOBS_INPUT_ETAG',
  outputUri: 'SPOTJOBS_OUTPUT_URI',
  triggerId: 'SPOTJOBS_TRIGGER_ID',
} as const;
