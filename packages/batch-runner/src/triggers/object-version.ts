import { createHash } from 'node:crypto';
import type { S3ObjectEvent } from './s3-event.ts';

/**
 * What one S3 event is about: one version of one object. Redeliveries of an event name the
 * same version, so this is what triggers deduplicate on. In a versioned bucket the version
 * id names it; in an unversioned one the event's sequencer does (every PUT of a key gets a
 * new, larger sequencer; a redelivery carries the same one).
 */
export interface ObjectVersion {
  readonly bucket: string;
  readonly key: string;
  /** `v:<versionId>` or `s:<sequencer>`. */
  readonly version: string;
}

/**
 * The version an event record is about, or undefined when it has neither a version id nor a
 * sequencer (then redeliveries cannot be told apart, and the record is not acted on).
 *
 * @example
 * ```ts
 * objectVersionOf(record); // { bucket: 'jobs', key: 'input/run.sh', version: 'v:3HL4kqtJlcpXroDTDmJ' }
 * ```
 */
export function objectVersionOf(record: S3ObjectEvent): ObjectVersion | undefined {
  if (record.versionId) return { bucket: record.bucket, key: record.key, version: `v:${record.versionId}` };
  if (record.sequencer) return { bucket: record.bucket, key: record.key, version: `s:${record.sequencer}` };
  return undefined;
}

/**
 * A fixed-size id of an object version (64 hex digits): the idempotency key of the Table
 * claim, and the seed of Batch job names and CloudFormation request tokens. Hashed, because
 * a bucket and a 1024-byte key would not fit the Table's key limit and tokens allow few characters.
 *
 * @example
 * ```ts
 * objectVersionId({ bucket: 'jobs', key: 'input/run.sh', version: 's:0055AED6DCD90281E5' }); // 'c0b9...'
 * ```
 */
export function objectVersionId(version: ObjectVersion): string {
  return createHash('sha256').update(`${version.bucket}\n${version.key}\n${version.version}`).digest('hex');
}
