import { describe, expect, it } from 'vitest';
import { decodeS3EventKey, isObjectCreated, parseS3Event } from '../src/triggers/s3-event.ts';
import { combine, s3Event } from './trigger-test-kit.ts';

describe('S3 event notifications', () => {
  it('reads a versioned PUT record: bucket, key decoded once (+ is a space), version, sequencer, size, writer', async () => {
    const event = await s3Event('object-created-put');

    const { records, problems } = parseS3Event(event);

    expect(problems).toEqual([]);
    expect(records).toEqual([
      {
        index: 0,
        eventName: 'ObjectCreated:Put',
        eventTime: '2026-03-02T10:15:42.617Z',
        region: 'eu-west-2',
        bucket: 'scar-architrave',
        key: 'input/run helper.sh',
        rawKey: 'input/run+helper.sh',
        size: 412,
        versionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
        sequencer: '0067C4312E9E7A6B21',
        eTag: '0e4d6b3f9b1a2c7d8e5f6a7b8c9d0e1f',
        principalId: 'AWS:AIDAJQABLZS4A3QDU576Q',
      },
    ]);
    expect(isObjectCreated(records[0]!)).toBe(true);
  });

  it('reads an unversioned multipart record by its sequencer, %2B decoding to a literal +', async () => {
    const { records } = parseS3Event(await s3Event('object-created-unversioned'));

    expect(records[0]).toMatchObject({
      eventName: 'ObjectCreated:CompleteMultipartUpload',
      key: 'input/mpi/case+1.tar.gz',
      versionId: undefined,
      sequencer: '0067C432F3A0B1C2D3',
    });
  });

  it('treats the "null" version of a suspended-versioning bucket as no version', async () => {
    const { records } = parseS3Event(await s3Event('object-created-put', { versionId: 'null' }));

    expect(records[0]?.versionId).toBeUndefined();
  });

  it('decodes exactly once: %252F stays the three characters %2F, %2F becomes a slash', () => {
    expect(decodeS3EventKey('home/alice/a%252Fb.cf-create')).toBe('home/alice/a%2Fb.cf-create');
    expect(decodeS3EventKey('home%2Fbob%2Fx.cf-create')).toBe('home/bob/x.cf-create');
    expect(decodeS3EventKey('input/caf%C3%A9+au+lait.sh')).toBe('input/café au lait.sh');
  });

  it('reports a malformed escape as a problem of that record, keeping the good records', async () => {
    const good = await s3Event('object-created-put');
    const bad = await s3Event('object-created-put', { rawKey: 'input/%E0%A4%A.sh' });

    const { records, problems } = parseS3Event(combine(good, bad));

    expect(records.map((r) => r.index)).toEqual([0]);
    expect(problems).toEqual([{ index: 1, problem: 'key "input/%E0%A4%A.sh" is not valid URL encoding' }]);
  });

  it('reports records of the wrong shape and events that are not S3 notifications', async () => {
    const event = await s3Event('object-created-put');
    const withBroken = { Records: [...event.Records, { eventSource: 'aws:sqs', body: '{}' }] };

    expect(parseS3Event(withBroken).problems).toEqual([
      { index: 1, problem: expect.stringContaining('not an S3 object record') },
    ]);
    expect(parseS3Event({ hello: 'world' }).problems).toEqual([
      { index: -1, problem: 'not an S3 event notification (no Records)' },
    ]);
    expect(parseS3Event({ Records: [] }).records).toEqual([]);
  });

  it('reads removal records (no size) and tells them from creations', async () => {
    const { records } = parseS3Event(await s3Event('object-removed'));

    expect(records[0]).toMatchObject({ eventName: 'ObjectRemoved:DeleteMarkerCreated', size: undefined });
    expect(isObjectCreated(records[0]!)).toBe(false);
  });
});
