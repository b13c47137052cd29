// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Sub strings in fixtures and findings
import { describe, expect, it } from 'vitest';
import { checkEnvironment } from '../src/check-environment.ts';
import { parseTemplate } from '../src/template-file.ts';

const check = (yaml: string) => checkEnvironment(parseTemplate(yaml));

/** The job trigger's Lambda with its resources; `variables` is the YAML of Environment.Variables. */
const jobTrigger = (variables: string) => `
Parameters:
  ClaimTtl: { Type: Number, Default: 60 }
Resources:
  Inputs: { Type: AWS::S3::Bucket }
  Claims: { Type: AWS::DynamoDB::Table }
  Jobs: { Type: AWS::Batch::JobQueue }
  Single: { Type: AWS::Batch::JobDefinition }
  Trigger:
    Type: AWS::Lambda::Function
    Metadata: { SpotjobsConfig: job-trigger }
    Properties:
      Environment:
        Variables:
${variables}
`;

const goodTriggerVariables = `
          SPOTJOBS_TRIGGER_TABLE: !Ref Claims
          SPOTJOBS_TRIGGER_BUCKETS: !Ref Inputs
          SPOTJOBS_TRIGGER_JOB_QUEUE: !Ref Jobs
          SPOTJOBS_TRIGGER_JOB_DEFINITION: !Ref Single
          SPOTJOBS_TRIGGER_CLAIM_TTL_SECONDS: !Ref ClaimTtl`;

describe('checkEnvironment', () => {
  it("accepts a Lambda environment the program's loader accepts and reads in full", () => {
    expect(check(jobTrigger(goodTriggerVariables))).toEqual([]);
  });

  it('reports a misspelled variable (passed, never read) and the required one it should have been', () => {
    const findings = check(
      jobTrigger(goodTriggerVariables.replace('SPOTJOBS_TRIGGER_TABLE', 'SPOTJOBS_TRIGGER_TABEL')),
    );
    expect(findings.map((f) => f.path)).toEqual([
      'Resources.Trigger.Properties.Environment.Variables',
      'Resources.Trigger.Properties.Environment.Variables',
    ]);
    expect(findings[0]?.message).toMatch(
      /^job-trigger: the loader rejects this environment: .*SPOTJOBS_TRIGGER_TABLE/,
    );
    expect(findings[1]?.message).toBe(
      'job-trigger: SPOTJOBS_TRIGGER_TABEL is passed but the loader never reads it (a typo or a dead setting)',
    );
  });

  it('reports a value the loader refuses (the sample of what CloudFormation would pass)', () => {
    // A queue's Ref is its URL, not a Batch job queue.
    const findings = check(
      jobTrigger(goodTriggerVariables).replace(
        'Jobs: { Type: AWS::Batch::JobQueue }',
        'Jobs: { Type: AWS::SQS::Queue }',
      ),
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toMatch(/SPOTJOBS_TRIGGER_JOB_QUEUE: must be a Batch name/);
  });

  it('reports a variable Lambda reserves', () => {
    const findings = check(jobTrigger(`${goodTriggerVariables}\n          AWS_REGION: us-east-1`));
    expect(findings.map((f) => f.message)).toContain('AWS_REGION is reserved: Lambda sets it itself');
  });

  it('checks the named ECS container, secrets included, with the platform variables', () => {
    const template = (password: string) => `
Resources:
  Table: { Type: AWS::DynamoDB::Table }
  Gateway:
    Type: AWS::ECS::TaskDefinition
    Metadata: { SpotjobsConfig: fossa-gateway, SpotjobsContainer: gateway }
    Properties:
      ContainerDefinitions:
        - Name: sidecar
          Image: x
          Environment: [{ Name: UNRELATED, Value: x }]
        - Name: gateway
          Image: x
          Environment:
            - { Name: FOSSA_TABLE_NAME, Value: !Ref Table }
          Secrets:
            - { Name: ${password}, ValueFrom: arn:aws:secretsmanager:us-east-1:123456789012:secret:gw }
`;
    expect(check(template('FOSSA_GATEWAY_PASSWORD'))).toEqual([]);
    const findings = check(template('FOSSA_GATEWAY_PASWORD'));
    expect(findings.map((f) => f.path)).toEqual([
      'Resources.Gateway.Properties.ContainerDefinitions[1].Environment',
      'Resources.Gateway.Properties.ContainerDefinitions[1].Environment',
    ]);
    expect(findings[0]?.message).toMatch(/FOSSA_GATEWAY_PASSWORD is required/);
    expect(findings[1]?.message).toMatch(/FOSSA_GATEWAY_PASWORD is passed but the loader never reads it/);
  });

  it('checks each Batch node range with the node variables Batch sets, passing the application its own variables', () => {
    const template = (extra: string) => `
Parameters:
  Nodes: { Type: Number, Default: 3 }
Conditions:
  Always: !Equals [a, a]
Resources:
  Job:
    Type: AWS::Batch::JobDefinition
    Metadata: { SpotjobsConfig: batch-runner }
    Properties:
      Type: multinode
      NodeProperties:
        NumNodes: !Ref Nodes
        MainNode: 0
        NodeRangeProperties:
          - TargetNodes: '0:'
            Container:
              Image: x
              Environment:
                - { Name: APP_BIN, Value: /opt/app/run }
                - { Name: OMP_NUM_THREADS, Value: '4' }
                - !If [Always, { Name: SPOTJOBS_UPLOAD_CONCURRENCY, Value: '2' }, !Ref AWS::NoValue]${extra}
`;
    expect(check(template(''))).toEqual([]);
    const findings = check(
      template(
        "\n                - !If [Always, { Name: SPOTJOBS_UPLOAD_CONCURENCY, Value: '8' }, !Ref AWS::NoValue]",
      ),
    );
    expect(findings.map((f) => f.message)).toEqual([
      'batch-runner: SPOTJOBS_UPLOAD_CONCURENCY is passed but the loader never reads it (a typo or a dead setting)',
    ]);
    // A typo in SCAR's own names is the runner's too, not the application's.
    expect(
      check(template("\n                - { Name: APP_PARAM, Value: '-v' }")).map((f) => f.message),
    ).toEqual(['batch-runner: APP_PARAM is passed but the loader never reads it (a typo or a dead setting)']);
  });

  it('reads the compile worker env file from the launch template user data heredoc', () => {
    const template = (digest: string) => `
Parameters:
  BuilderDigest: { Type: String, AllowedPattern: '^sha256:[0-9a-f]{64}$' }
Resources:
  Queue: { Type: AWS::SQS::Queue }
  Artifacts: { Type: AWS::S3::Bucket }
  Hosts:
    Type: AWS::EC2::LaunchTemplate
    Metadata: { SpotjobsConfig: compile-worker }
    Properties:
      LaunchTemplateData:
        UserData:
          Fn::Base64: !Sub |
            #!/bin/bash
            set -euo pipefail
            mkdir -p /etc/spotjobs
            cat > /etc/spotjobs/compile.env <<'SPOTJOBS_ENV'
            SPOTJOBS_COMPILE_BACKEND=aws
            AWS_REGION=\${AWS::Region}
            SPOTJOBS_COMPILE_QUEUE_URL=\${Queue}
            SPOTJOBS_COMPILE_BUCKET=\${Artifacts}
            SPOTJOBS_COMPILE_IMAGE_DIGEST=${digest}
            SPOTJOBS_ENV
            systemctl enable --now spotjobs-compile-worker
`;
    expect(check(template('${BuilderDigest}'))).toEqual([]);
    const findings = check(template('unpinned'));
    expect(findings).toHaveLength(1);
    expect(findings[0]?.path).toBe('Resources.Hosts.Properties.LaunchTemplateData.UserData');
    expect(findings[0]?.message).toMatch(
      /compile-worker: the loader rejects this environment: .*IMAGE_DIGEST/,
    );
  });

  it('reports spotjobs settings on a resource without SpotjobsConfig (nothing would check them)', () => {
    const findings = check(`
Resources:
  Quiet:
    Type: AWS::Lambda::Function
    Properties: { Environment: { Variables: { OTHER: x } } }
  Unchecked:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions: [{ Name: app, Image: x, Environment: [{ Name: FOSSA_QUEUE_URL, Value: x }] }]
`);
    expect(findings).toEqual([
      {
        path: 'Resources.Unchecked.Metadata',
        message: 'passes FOSSA_QUEUE_URL but names no Metadata.SpotjobsConfig, so no loader checks them',
      },
    ]);
  });

  it('reports an unknown schema and a schema on the wrong resource type', () => {
    const findings = check(`
Resources:
  A: { Type: AWS::Lambda::Function, Metadata: { SpotjobsConfig: fossa-nodes } }
  B: { Type: AWS::Lambda::Function, Metadata: { SpotjobsConfig: fossa-node } }
`);
    expect(findings.map((f) => f.path)).toEqual(['Resources.A.Metadata.SpotjobsConfig', 'Resources.B.Type']);
  });
});
