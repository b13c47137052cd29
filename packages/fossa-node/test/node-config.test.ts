import { describe, expect, it } from 'vitest';
import { acceptedExamples } from '../src/node/fossa-daemon.ts';
import { loadNodeConfig } from '../src/node-config.ts';

describe('loadNodeConfig', () => {
  it("defaults to Fossa's port, CPUs × 2 and the local backend", () => {
    const config = loadNodeConfig({}, 4);
    expect(config).toMatchObject({
      port: 2345,
      host: '0.0.0.0',
      capacity: 8,
      backend: { kind: 'local', dataDir: 'fossa-data' },
      visibilitySeconds: 30,
      parentLeaseMs: 15_000,
      healthPort: undefined,
    });
    expect(config.nodeId).toMatch(/^[A-Za-z0-9_.:-]+$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the dataset buckets and root, refusing bad bucket names; none by default', () => {
    expect(loadNodeConfig({}, 1)).toMatchObject({
      datasetBuckets: [],
      datasetRoot: undefined,
      s3ForcePathStyle: false,
    });
    const config = loadNodeConfig(
      {
        FOSSA_DATASET_BUCKETS: ' lake , fossa-data-1,lake,',
        FOSSA_DATASET_ROOT: '/srv/data',
        FOSSA_S3_FORCE_PATH_STYLE: 'true',
      },
      1,
    );
    expect(config).toMatchObject({
      datasetBuckets: ['lake', 'fossa-data-1'],
      datasetRoot: '/srv/data',
      s3ForcePathStyle: true,
    });
    expect(() => loadNodeConfig({ FOSSA_DATASET_BUCKETS: 'lake,Bad_Bucket,10.0.0.1' }, 1)).toThrow(
      /FOSSA_DATASET_BUCKETS: "Bad_Bucket" is not a valid S3 bucket name.*"10\.0\.0\.1" is not a valid S3 bucket name/,
    );
  });

  it('asks ECS for the identity only when neither the node id nor the address is given', () => {
    const uri = 'http://169.254.170.2/v4/0f1e2d3c-container';
    expect(loadNodeConfig({ ECS_CONTAINER_METADATA_URI_V4: uri }, 1).ecsTaskMetadataUri).toBe(uri);
    expect(loadNodeConfig({}, 1).ecsTaskMetadataUri).toBeUndefined();
    expect(
      loadNodeConfig({ ECS_CONTAINER_METADATA_URI_V4: uri, FOSSA_NODE_ID: 'n1' }, 1).ecsTaskMetadataUri,
    ).toBeUndefined();
    expect(
      loadNodeConfig({ ECS_CONTAINER_METADATA_URI_V4: uri, FOSSA_ADVERTISE_ADDRESS: '10.0.0.5:2345' }, 1)
        .ecsTaskMetadataUri,
    ).toBeUndefined();
  });

  it('rounds CPUs × ratio up, never below one', () => {
    expect(loadNodeConfig({ FOSSA_CPU_TASK_RATIO: '1.5' }, 2).capacity).toBe(3);
    expect(loadNodeConfig({ FOSSA_CPU_TASK_RATIO: '0.1' }, 1).capacity).toBe(1);
  });

  it('runs on SQS and DynamoDB when given a queue and a table', () => {
    const config = loadNodeConfig({
      FOSSA_QUEUE_URL: 'https://sqs.eu-west-2.amazonaws.com/123456789012/fossa_task_queue',
      FOSSA_TABLE_NAME: 'fossa',
      FOSSA_SUBTASK_TIMEOUT_SECONDS: '60',
    });
    expect(config.backend).toEqual({
      kind: 'aws',
      queueUrl: 'https://sqs.eu-west-2.amazonaws.com/123456789012/fossa_task_queue',
      deadLetterQueueUrl: undefined,
      tableName: 'fossa',
    });
    expect(config.subtaskTimeoutMs).toBe(60_000);
    expect(loadNodeConfig({ FOSSA_HEALTH_PORT: '0' }).healthPort).toBe(0);
    expect(() => loadNodeConfig({ FOSSA_HEALTH_PORT: '99999' })).toThrow(/FOSSA_HEALTH_PORT/);
  });

  it('lists every problem at once', () => {
    let issues: readonly string[] = [];
    try {
      loadNodeConfig({
        FOSSA_HTTP_PORT: '70000',
        FOSSA_CPU_TASK_RATIO: '-1',
        FOSSA_NODE_ID: 'a b',
        FOSSA_QUEUE_URL: 'nope',
      });
    } catch (err) {
      issues = (err as { issues: readonly string[] }).issues;
    }
    expect(issues.join('\n')).toMatch(/FOSSA_HTTP_PORT/);
    expect(issues.join('\n')).toMatch(/FOSSA_CPU_TASK_RATIO/);
    expect(issues.join('\n')).toMatch(/FOSSA_NODE_ID/);
    expect(issues.join('\n')).toMatch(/FOSSA_QUEUE_URL/);
  });

  it('needs a queue and a table together, and not beside a data directory', () => {
    expect(() => loadNodeConfig({ FOSSA_TABLE_NAME: 'fossa' })).toThrow(/FOSSA_QUEUE_URL: required/);
    expect(() =>
      loadNodeConfig({
        FOSSA_TABLE_NAME: 'fossa',
        FOSSA_QUEUE_URL: 'http://127.0.0.1:1/000/q',
        FOSSA_DATA_DIR: '/x',
      }),
    ).toThrow(/FOSSA_DATA_DIR/);
  });

  it('narrows the built-in models to the accepted list, refusing unknown names', () => {
    expect(
      loadNodeConfig({ FOSSA_ACCEPTED_MODEL_CLASSES: 'NothingEtl, HalfSecondEtl' }).acceptedModelClasses,
    ).toEqual(['NothingEtl', 'HalfSecondEtl']);
    expect(acceptedExamples(['NothingEtl']).names()).toEqual(['NothingEtl']);
    expect(acceptedExamples(undefined).names()).toContain('StaggeredEtl');
    expect(() => acceptedExamples(['NothingEtl', 'Nope'])).toThrow(/unknown Nope/);
  });
});
