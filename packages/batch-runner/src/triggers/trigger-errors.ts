import { SpotjobsError } from '@spotjobs/core';
import type { AdmissionReport } from './admission-types.ts';

/**
 * Some records of an S3 event could not be handled now (a throttled or failing AWS call, the
 * invocation's deadline, another invocation holding the same object): the Lambda handler
 * throws this so Lambda retries the event. Records already handled are deduplicated on the
 * retry, so nothing is done twice. `report` says what happened to every record.
 *
 * @example
 * ```ts
 * try { await admission.handle(event, invocation); }
 * catch (err) { if (err instanceof RetryRecordsError) console.warn(err.report.records); throw err; }
 * ```
 */
export class RetryRecordsError extends SpotjobsError {
  readonly code = 'TRIGGER_RETRY';
  readonly report: AdmissionReport;
  constructor(report: AdmissionReport, options?: { cause?: unknown }) {
    const retry = report.records.filter((r) => r.outcome === 'retry');
    super(
      `${report.handler}: ${retry.length} of ${report.records.length} record(s) must be retried: ${retry
        .map((r) => `#${r.index} ${r.reason ?? ''}`.trim())
        .join('; ')}`,
      options,
    );
    this.report = report;
  }
}

/** Another invocation holds the claim on this object version right now (a concurrent redelivery). */
export class ObjectBusyError extends SpotjobsError {
  readonly code = 'OBJECT_BUSY';
  readonly claimKey: string;
  constructor(claimKey: string, options?: { cause?: unknown }) {
    super(`another invocation is handling ${claimKey}`, options);
    this.claimKey = claimKey;
  }
}
