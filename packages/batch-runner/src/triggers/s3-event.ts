import { z } from 'zod';

/**
 * One object event of an S3 event notification, checked and with its key decoded once.
 * S3 writes keys URL-encoded with `+` for spaces (`my file.sh` arrives as `my+file.sh`, a
 * literal `+` as `%2B`); `key` is the object's real key, `rawKey` what the event carried.
 */
export interface S3ObjectEvent {
  /** Position in the event's `Records`, for logs and results. */
  readonly index: number;
  /** `ObjectCreated:Put`, `ObjectCreated:CompleteMultipartUpload`, `ObjectRemoved:Delete`... */
  readonly eventName: string;
  readonly eventTime: string;
  readonly region: string;
  readonly bucket: string;
  readonly key: string;
  readonly rawKey: string;
  /** Bytes; absent on removal events. */
  readonly size: number | undefined;
  /** The object version, or undefined in an unversioned bucket (S3's `"null"` version included). */
  readonly versionId: string | undefined;
  /** Orders events of one key; the same for every redelivery of one event. */
  readonly sequencer: string | undefined;
  /** The object's ETag when the event was sent: lets the job check it reads those bytes. */
  readonly eTag: string | undefined;
  /** Who wrote the object, as S3 reports it (`AWS:AIDA...` for an IAM user). */
  readonly principalId: string | undefined;
}

/** A record that could not be read, and why. */
export interface S3EventProblem {
  readonly index: number;
  readonly problem: string;
}

const recordSchema = z.looseObject({
  eventSource: z.literal('aws:s3'),
  awsRegion: z.string(),
  eventTime: z.string(),
  eventName: z.string().min(1),
  userIdentity: z.looseObject({ principalId: z.string() }).optional(),
  s3: z.looseObject({
    bucket: z.looseObject({ name: z.string().min(1) }),
    object: z.looseObject({
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      versionId: z.string().optional(),
      eTag: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});

const eventSchema = z.looseObject({ Records: z.array(z.unknown()).min(1) });

/**
 * Decodes an S3 event key exactly once (`+` is a space, then percent-decoding), as S3
 * encoded it once. Answers undefined for a malformed escape. Never decode twice: `%252F`
 * in an event is a key holding the three characters `%2F`, not a slash.
 *
 * @example
 * ```ts
 * decodeS3EventKey('input/my+run%2B1.sh'); // 'input/my run+1.sh'
 * ```
 */
export function decodeS3EventKey(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/**
 * Reads an S3 event notification (what S3 hands a Lambda function): each record becomes an
 * `S3ObjectEvent` or a problem, so one malformed record does not hide the others. An event
 * that is not an S3 notification at all gives a single problem at index -1.
 *
 * @example
 * ```ts
 * const { records, problems } = parseS3Event(event);
 * for (const r of records) console.log(r.eventName, r.bucket, r.key, r.versionId ?? r.sequencer);
 * ```
 */
export function parseS3Event(event: unknown): {
  records: S3ObjectEvent[];
  problems: S3EventProblem[];
} {
  const outer = eventSchema.safeParse(event);
  if (!outer.success) {
    return { records: [], problems: [{ index: -1, problem: 'not an S3 event notification (no Records)' }] };
  }
  const records: S3ObjectEvent[] = [];
  const problems: S3EventProblem[] = [];
  outer.data.Records.forEach((raw, index) => {
    const parsed = recordSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'record'}: ${i.message}`);
      problems.push({ index, problem: `not an S3 object record: ${issues.join('; ')}` });
      return;
    }
    const r = parsed.data;
    const key = decodeS3EventKey(r.s3.object.key);
    if (key === undefined) {
      problems.push({ index, problem: `key ${JSON.stringify(r.s3.object.key)} is not valid URL encoding` });
      return;
    }
    const versionId = r.s3.object.versionId;
    records.push({
      index,
      eventName: r.eventName,
      eventTime: r.eventTime,
      region: r.awsRegion,
      bucket: r.s3.bucket.name,
      key,
      rawKey: r.s3.object.key,
      size: r.s3.object.size,
      versionId: versionId === undefined || versionId === '' || versionId === 'null' ? undefined : versionId,
      sequencer: r.s3.object.sequencer || undefined,
      eTag: r.s3.object.eTag || undefined,
      principalId: r.userIdentity?.principalId,
    });
  });
  return { records, problems };
}

/** Whether the record reports a new object (`ObjectCreated:*`: Put, Post, Copy, CompleteMultipartUpload). */
export function isObjectCreated(record: S3ObjectEvent): boolean {
  return record.eventName.startsWith('ObjectCreated:');
}
