// The environment each template hands a spotjobs program is checked by that program's own config
// loader (deploy contract §3, §4): the template's values (intrinsics resolved to samples of the right
// shape) plus what the platform sets at run time go through the real loader behind a Proxy that
// records every variable the loader reads by name. A loader error is a missing or invalid setting; a
// passed variable the loader never reads is a typo or a dead setting.

import { loadClusterTriggerConfig, loadJobTriggerConfig, loadRunnerConfig } from '@spotjobs/batch-runner';
import { loadConfig } from '@spotjobs/compile-worker';
import { gatewayConfig, loadNodeConfig } from '@spotjobs/fossa-node';
import { sampleRegion, TemplateSamples } from './sample-values.ts';
import { subArgument } from './sub-template.ts';
import type { Template, TemplateResource } from './template-file.ts';
import { type Finding, findingPath } from './template-finding.ts';
import { intrinsicOf, isRecord, listedMappings, type TemplatePath } from './template-intrinsics.ts';
import { userDataEnvFile } from './user-data-env-file.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** How one program reads its environment, and where its environment lives in a template. */
export interface SpotjobsConfigSchema {
  /** The resource type that carries this program's environment. */
  readonly resourceType: string;
  /** The program's real loader; throws on a missing or invalid setting. */
  readonly load: (env: Env) => unknown;
  /** Variables the program hands on unread (the batch runner passes the rest to the application). */
  readonly passesOn?: (name: string) => boolean;
}

/** The `Metadata.SpotjobsConfig` names of contract §3 and the loader each one runs. */
export const spotjobsConfigSchemas: Readonly<Record<string, SpotjobsConfigSchema>> = {
  'compile-api': { resourceType: 'AWS::Lambda::Function', load: (env) => loadConfig(env) },
  'compile-worker': { resourceType: 'AWS::EC2::LaunchTemplate', load: (env) => loadConfig(env) },
  'fossa-node': { resourceType: 'AWS::ECS::TaskDefinition', load: (env) => loadNodeConfig(env, 2) },
  'fossa-gateway': { resourceType: 'AWS::ECS::TaskDefinition', load: (env) => gatewayConfig(env) },
  'batch-runner': {
    resourceType: 'AWS::Batch::JobDefinition',
    load: (env) => loadRunnerConfig(env, { tmpDir: '/tmp' }),
    // The application gets every variable outside the runner's own names: SPOTJOBS_* and SCAR's
    // EXEC_*, APP_*, INPUT_*, TMP_* and AWS_BATCH_* (so a typo such as APP_BIM is caught). The
    // runner reads APP_SECRET_* by listing them, which the recorder does not count as a read.
    passesOn: (name) =>
      /^APP_SECRET_[A-Z0-9_]+$/.test(name) || !/^(SPOTJOBS|EXEC|APP|INPUT|TMP|AWS_BATCH)_/.test(name),
  },
  'job-trigger': { resourceType: 'AWS::Lambda::Function', load: (env) => loadJobTriggerConfig(env) },
  'cluster-trigger': { resourceType: 'AWS::Lambda::Function', load: (env) => loadClusterTriggerConfig(env) },
};

/** Set by Lambda in every function; all but TZ are reserved (a template may not set them). */
const lambdaRuntime = (name: string): Record<string, string> => ({
  AWS_REGION: sampleRegion,
  AWS_DEFAULT_REGION: sampleRegion,
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_LAMBDA_FUNCTION_NAME: name,
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
  AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
  AWS_ACCESS_KEY_ID: 'ASIASAMPLESAMPLE0000',
  AWS_SECRET_ACCESS_KEY: 'sample-secret-access-key',
  AWS_SESSION_TOKEN: 'sample-session-token',
  LAMBDA_TASK_ROOT: '/var/task',
  LAMBDA_RUNTIME_DIR: '/var/runtime',
  _HANDLER: 'index.handler',
  TZ: ':UTC',
});

/** Set by ECS (Fargate) in every container. */
const ecsRuntime: Record<string, string> = {
  AWS_REGION: sampleRegion,
  AWS_DEFAULT_REGION: sampleRegion,
  AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE',
  ECS_CONTAINER_METADATA_URI: 'http://169.254.170.2/v3/0123456789abcdef',
  ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/0123456789abcdef',
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/0123456789abcdef',
  HOSTNAME: 'ip-10-0-1-10.ec2.internal',
};

/** Set by Batch in every job, plus what the job trigger passes as container overrides. */
const batchRuntime: Record<string, string> = {
  ...ecsRuntime,
  AWS_EXECUTION_ENV: 'AWS_ECS_EC2',
  AWS_BATCH_JOB_ID: '0f0e0d0c-0b0a-4908-8706-050403020100',
  AWS_BATCH_JOB_ATTEMPT: '1',
  AWS_BATCH_CE_NAME: 'spotjobs-sample-spot',
  AWS_BATCH_JQ_NAME: 'spotjobs-sample-jobs',
  SPOTJOBS_INPUT_URI: 's3://spotjobs-sample-input/input/job.zip',
  SPOTJOBS_OUTPUT_URI: 's3://spotjobs-sample-output/output/',
  SPOTJOBS_TRIGGER_ID: 'sample-trigger',
};

/**
 * Read by the AWS SDK or Node itself rather than by a loader: passing them is deliberate (on EC2
 * nothing else tells the SDK its region).
 */
const readByRuntime = new Set([
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_USE_FIPS_ENDPOINT',
  'AWS_USE_DUALSTACK_ENDPOINT',
  'AWS_MAX_ATTEMPTS',
  'AWS_RETRY_MODE',
  'AWS_STS_REGIONAL_ENDPOINTS',
  'AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE',
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'TZ',
]);
const isReadByRuntime = (name: string) => readByRuntime.has(name) || name.startsWith('AWS_ENDPOINT_URL');

/** The prefixes of the spotjobs programs' own settings. */
const spotjobsVariable = /^(SPOTJOBS|FOSSA)_/;

/** A secret's value is unknown before deploy: any plausible secret text. */
const secretSample = 'Sample-Secret-Value-0123456789abcdef';

/** One environment a resource passes (a Batch multi-node job passes one per node range). */
interface PassedEnvironment {
  readonly path: TemplatePath;
  /** The variables as the template writes them (values still expressions). */
  readonly variables: Record<string, unknown>;
  /** Variables the platform adds at run time. */
  readonly runtime: Record<string, string>;
}

/**
 * Runs each program's real config loader on the environment the template passes it.
 *
 * @example
 * ```ts
 * checkEnvironment(parseTemplate(fossaYaml));
 * // [{ path: 'Resources.NodeTask…Environment', message: 'fossa-node: FOSSA_QUEUE_ULR is passed but never read' }]
 * ```
 */
export function checkEnvironment(template: Template): Finding[] {
  const findings: Finding[] = [];
  const samples = new TemplateSamples(template);
  for (const [name, resource] of Object.entries(template.Resources)) {
    const schemaName = resource.Metadata?.SpotjobsConfig;
    const path = ['Resources', name];
    const report = (at: TemplatePath, message: string) => findings.push({ path: findingPath(at), message });
    if (schemaName === undefined) {
      // Settings nobody checks: a spotjobs variable on a resource that does not name its program.
      const unchecked = passedEnvironments(name, resource, samples, () => {}).flatMap((environment) =>
        Object.keys(environment.variables).filter((key) => spotjobsVariable.test(key)),
      );
      if (unchecked.length > 0)
        report(
          [...path, 'Metadata'],
          `passes ${unchecked.join(', ')} but names no Metadata.SpotjobsConfig, so no loader checks them`,
        );
      continue;
    }
    const schema = typeof schemaName === 'string' ? spotjobsConfigSchemas[schemaName] : undefined;
    if (schema === undefined) {
      report(
        [...path, 'Metadata', 'SpotjobsConfig'],
        `unknown SpotjobsConfig ${String(schemaName)} (one of ${Object.keys(spotjobsConfigSchemas).join(', ')})`,
      );
      continue;
    }
    if (resource.Type !== schema.resourceType) {
      report([...path, 'Type'], `SpotjobsConfig ${schemaName} belongs on a ${schema.resourceType}`);
      continue;
    }
    const passed = passedEnvironments(name, resource, samples, report);
    for (const environment of passed) {
      const values: Record<string, string> = {};
      for (const [key, value] of Object.entries(environment.variables)) values[key] = samples.text(value);
      for (const key of Object.keys(environment.variables))
        if (resource.Type === 'AWS::Lambda::Function' && key in environment.runtime && key !== 'TZ')
          report(environment.path, `${key} is reserved: Lambda sets it itself`);
      const { env, directlyRead } = recordingEnvironment({ ...environment.runtime, ...values });
      try {
        schema.load(env);
      } catch (error) {
        report(
          environment.path,
          `${schemaName}: the loader rejects this environment: ${(error as Error).message}`,
        );
      }
      for (const key of Object.keys(environment.variables))
        if (!directlyRead.has(key) && !isReadByRuntime(key) && schema.passesOn?.(key) !== true)
          report(
            environment.path,
            `${schemaName}: ${key} is passed but the loader never reads it (a typo or a dead setting)`,
          );
    }
  }
  return findings;
}

/** The env behind a Proxy that records the names read one by one (not those only enumerated). */
function recordingEnvironment(values: Record<string, string>): { env: Env; directlyRead: Set<string> } {
  const directlyRead = new Set<string>();
  // Object.entries asks for each key's descriptor just before reading it: such a read is enumeration.
  let described: string | symbol | undefined;
  const env = new Proxy(values, {
    getOwnPropertyDescriptor(target, key) {
      described = key;
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    get(target, key, receiver) {
      if (key === described) described = undefined;
      else if (typeof key === 'string') directlyRead.add(key);
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      if (typeof key === 'string') directlyRead.add(key);
      return Reflect.has(target, key);
    },
  });
  return { env, directlyRead };
}

/** ECS/Batch `[{ Name, Value }]` (and ECS `Secrets: [{ Name, ValueFrom }]`) as a record. */
function namedValues(environment: unknown, secrets: unknown): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  for (const entry of listedMappings(environment))
    if (typeof entry.Name === 'string') variables[entry.Name] = entry.Value ?? '';
  for (const entry of listedMappings(secrets))
    if (typeof entry.Name === 'string') variables[entry.Name] = secretSample;
  return variables;
}

function passedEnvironments(
  name: string,
  resource: TemplateResource,
  samples: TemplateSamples,
  report: (path: TemplatePath, message: string) => void,
): PassedEnvironment[] {
  const properties = resource.Properties ?? {};
  const path = ['Resources', name, 'Properties'];
  switch (resource.Type) {
    case 'AWS::Lambda::Function': {
      const variables = isRecord(properties.Environment) ? properties.Environment.Variables : undefined;
      return [
        {
          path: [...path, 'Environment', 'Variables'],
          variables: isRecord(variables) ? variables : {},
          runtime: lambdaRuntime(
            typeof properties.FunctionName === 'string' ? properties.FunctionName : `spotjobs-sample-${name}`,
          ),
        },
      ];
    }
    case 'AWS::ECS::TaskDefinition': {
      const containers = (
        Array.isArray(properties.ContainerDefinitions) ? properties.ContainerDefinitions : []
      ).filter(isRecord);
      const wanted = resource.Metadata?.SpotjobsContainer;
      const index =
        wanted === undefined
          ? containers.length === 1
            ? 0
            : -1
          : containers.findIndex((c) => c.Name === wanted);
      const container = containers[index];
      if (container === undefined) {
        report(
          ['Resources', name, 'Metadata'],
          wanted === undefined
            ? 'several containers: name the spotjobs one in Metadata.SpotjobsContainer'
            : `no container named ${String(wanted)}`,
        );
        return [];
      }
      return [
        {
          path: [...path, 'ContainerDefinitions', index, 'Environment'],
          variables: namedValues(container.Environment, container.Secrets),
          runtime: ecsRuntime,
        },
      ];
    }
    case 'AWS::Batch::JobDefinition':
      return batchEnvironments(path, properties, samples);
    case 'AWS::EC2::LaunchTemplate':
      return launchTemplateEnvironment(path, properties, report);
    default:
      return [];
  }
}

function batchEnvironments(
  path: TemplatePath,
  properties: Record<string, unknown>,
  samples: TemplateSamples,
): PassedEnvironment[] {
  const environments: PassedEnvironment[] = [];
  if (isRecord(properties.ContainerProperties))
    environments.push({
      path: [...path, 'ContainerProperties', 'Environment'],
      variables: namedValues(
        properties.ContainerProperties.Environment,
        properties.ContainerProperties.Secrets,
      ),
      runtime: batchRuntime,
    });
  const nodes = isRecord(properties.NodeProperties) ? properties.NodeProperties : undefined;
  const ranges = Array.isArray(nodes?.NodeRangeProperties) ? nodes.NodeRangeProperties : [];
  const numNodes = samples.text(nodes?.NumNodes ?? 2);
  const mainNode = samples.text(nodes?.MainNode ?? 0);
  ranges.forEach((range, i) => {
    if (!isRecord(range) || !isRecord(range.Container)) return;
    // TargetNodes `2`, `1:` or `0:3`: the range's first node stands for all of it.
    const first = samples.text(range.TargetNodes ?? '0').split(':')[0] || '0';
    environments.push({
      path: [...path, 'NodeProperties', 'NodeRangeProperties', i, 'Container', 'Environment'],
      variables: namedValues(range.Container.Environment, range.Container.Secrets),
      runtime: {
        ...batchRuntime,
        AWS_BATCH_JOB_NUM_NODES: numNodes,
        AWS_BATCH_JOB_MAIN_NODE_INDEX: mainNode,
        AWS_BATCH_JOB_NODE_INDEX: first,
        ...(first === mainNode ? {} : { AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: '10.0.1.10' }),
      },
    });
  });
  return environments;
}

/**
 * The env file user data writes (contract §4): the lines of the `SPOTJOBS_ENV` heredoc in the
 * `Fn::Base64: !Sub` script, each value substituted like the rest of the script.
 */
function launchTemplateEnvironment(
  path: TemplatePath,
  properties: Record<string, unknown>,
  report: (path: TemplatePath, message: string) => void,
): PassedEnvironment[] {
  const userDataPath = [...path, 'LaunchTemplateData', 'UserData'];
  const data = isRecord(properties.LaunchTemplateData) ? properties.LaunchTemplateData.UserData : undefined;
  const base64 = intrinsicOf(data);
  const sub = intrinsicOf(base64?.argument);
  const script = sub?.name === 'Fn::Sub' ? subArgument(sub.argument) : undefined;
  if (base64?.name !== 'Fn::Base64' || script === undefined) {
    report(userDataPath, 'UserData must be Fn::Base64 of a Fn::Sub script (contract §4)');
    return [];
  }
  const file = userDataEnvFile(script.text);
  if (file === undefined) {
    report(userDataPath, "user data writes no env file: no <<'SPOTJOBS_ENV' … SPOTJOBS_ENV heredoc");
    return [];
  }
  for (const line of file.badLines) report(userDataPath, `env file line is not KEY=value: ${line}`);
  const variables = Object.fromEntries(
    Object.entries(file.variables).map(([key, value]) => [key, { 'Fn::Sub': [value, script.variables] }]),
  );
  return [{ path: userDataPath, variables, runtime: {} }];
}
