// Least privilege and log hygiene (deploy contract §5, §6): no wildcard actions; `Resource: '*'`
// only for actions that have no resource-level permissions; iam:PassRole only on named roles for a
// named service; every Lambda function, ECS container, Batch job and API Gateway stage logs to a log
// group the template declares, and every log group has a retention.

import { parseSubString, subArgument } from './sub-template.ts';
import type { Template, TemplateResource } from './template-file.ts';
import { type Finding, findingPath } from './template-finding.ts';
import {
  intrinsicOf,
  isRecord,
  listedMappings,
  type TemplatePath,
  walkValues,
} from './template-intrinsics.ts';

/**
 * Actions allowed on `Resource: '*'` because IAM offers no narrower resource for them. Kept short on
 * purpose: an action belongs here only when its service authorization reference lists no resource type.
 */
export const actionsWithoutResourceLevelPermissions: readonly string[] = [
  // EC2 Describe* calls (instances, spot requests, subnets …) authorize only on `*`.
  'ec2:Describe*',
  // Auto Scaling Describe* calls authorize only on `*` too.
  'autoscaling:Describe*',
  // The ECR registry login token is account-wide (pulling layers is scoped to the repository).
  'ecr:GetAuthorizationToken',
  // Metrics are scoped by the cloudwatch:namespace condition, not by resource.
  'cloudwatch:PutMetricData',
  // Batch's read calls authorize only on `*`.
  'batch:DescribeJobs',
  'batch:ListJobs',
  'batch:DescribeJobQueues',
  'batch:DescribeJobDefinitions',
  'batch:DescribeComputeEnvironments',
  // ECS: listing tasks is scoped by the ecs:cluster condition (required below); task definitions are
  // registered account-wide.
  'ecs:ListTasks',
  'ecs:RegisterTaskDefinition',
  'ecs:DeregisterTaskDefinition',
  'ecs:DescribeTaskDefinition',
  // X-Ray trace upload has no resource.
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'sts:GetCallerIdentity',
];

const patternRegex = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
const allowedOnEveryResource = actionsWithoutResourceLevelPermissions.map(patternRegex);

const list = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * Checks IAM statements and logging of one template.
 *
 * @example
 * ```ts
 * checkLeastPrivilege(parseTemplate(text)); // [{ path: 'Resources.Role.Properties.Policies[0]…', message: "Action '*' …" }]
 * ```
 */
export function checkLeastPrivilege(template: Template): Finding[] {
  return [...checkPolicies(template), ...checkLogging(template)];
}

/** The values an `!If` may deploy (lists flattened); any other value as itself. */
function branches(value: unknown): unknown[] {
  const call = intrinsicOf(value);
  if (call?.name !== 'Fn::If' || !Array.isArray(call.argument)) return [value];
  return call.argument.slice(1).flatMap((branch) => list(branch).flatMap(branches));
}

/** Whether any operator of the statement's Condition tests `key`. */
function hasConditionKey(statement: Record<string, unknown>, key: string): boolean {
  const operators = isRecord(statement.Condition) ? Object.values(statement.Condition) : [];
  return operators.some((test) => isRecord(test) && key in test);
}

function checkPolicies(template: Template): Finding[] {
  const findings: Finding[] = [];
  walkValues(template.Resources, ['Resources'], (value, path) => {
    if (!isRecord(value) || !Array.isArray(value.Statement)) return;
    value.Statement.forEach((item, i) => {
      // A conditional statement is checked in each branch it may deploy.
      for (const statement of listedMappings([item]))
        for (const message of statementProblems(statement))
          findings.push({ path: findingPath([...path, 'Statement', i]), message });
    });
  });
  return findings;
}

/** What is too broad in one policy statement (Deny statements may be as broad as they like). */
function statementProblems(statement: Record<string, unknown>): string[] {
  if (statement.Effect !== 'Allow') return [];
  const problems: string[] = [];
  if (statement.NotAction !== undefined)
    problems.push('an Allow statement with NotAction grants nearly everything');
  if (statement.NotResource !== undefined)
    problems.push('an Allow statement with NotResource grants nearly everything');
  const actions = list(statement.Action).filter((a): a is string => typeof a === 'string');
  for (const action of actions)
    if (action === '*' || /^[a-z0-9-]+:\*$/i.test(action))
      problems.push(`Action '${action}' grants every action`);
    else if (action.includes('*') && !allowedOnEveryResource.some((allowed) => allowed.test(action)))
      problems.push(`Action '${action}' grants a family of actions, today's and future ones: name them`);
  // Trust policies (sts:AssumeRole with a Principal) have no Resource; an !If counts in each branch.
  const onEveryResource = list(statement.Resource).flatMap(branches).includes('*');
  if (onEveryResource) {
    const unscoped = actions.filter((a) => !allowedOnEveryResource.some((allowed) => allowed.test(a)));
    if (unscoped.length > 0)
      problems.push(`Resource '*' for ${unscoped.join(', ')}, which can be scoped to resources (name them)`);
    if (
      actions.some((a) => a.toLowerCase() === 'ecs:listtasks') &&
      !hasConditionKey(statement, 'ecs:cluster')
    )
      problems.push("ecs:ListTasks on Resource '*' needs an ecs:cluster condition naming the cluster");
  }
  if (actions.some((a) => patternRegex(a).test('iam:PassRole'))) {
    if (onEveryResource)
      problems.push('iam:PassRole on Resource * lets the holder hand any role to any service');
    if (!hasConditionKey(statement, 'iam:PassedToService'))
      problems.push('iam:PassRole without an iam:PassedToService condition');
  }
  return problems;
}

/** The name a log group reference points at: a LogGroup's logical id, or a normalized literal name. */
function logGroupTarget(value: unknown, template: Template): string | undefined {
  const call = intrinsicOf(value);
  const isLogGroup = (name: string) => template.Resources[name]?.Type === 'AWS::Logs::LogGroup';
  if (call?.name === 'Ref' && typeof call.argument === 'string' && isLogGroup(call.argument))
    return call.argument;
  if (call?.name === 'Fn::GetAtt' && Array.isArray(call.argument) && isLogGroup(String(call.argument[0])))
    return String(call.argument[0]);
  if (call?.name === 'Fn::Sub') {
    const parts = parseSubString(subArgument(call.argument)?.text ?? '');
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only !== undefined && 'variable' in only && isLogGroup(only.variable.split('.')[0] ?? ''))
      return only.variable.split('.')[0];
  }
  // A literal or computed name: the log group whose LogGroupName is written the same way.
  const written = JSON.stringify(value);
  return Object.entries(template.Resources).find(
    ([, r]) => r.Type === 'AWS::Logs::LogGroup' && JSON.stringify(r.Properties?.LogGroupName) === written,
  )?.[0];
}

/** A literal string, or the text of a `Fn::Sub` string: how a name is written, variables unresolved. */
function writtenName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const call = intrinsicOf(value);
  return call?.name === 'Fn::Sub' ? subArgument(call.argument)?.text : undefined;
}

/** Whether a LogGroup's LogGroupName is `/aws/lambda/<the function>`, by logical id or by FunctionName as written. */
function namesLambdaLogGroup(group: TemplateResource, functionName: string, fn: TemplateResource): boolean {
  const text = writtenName(group.Properties?.LogGroupName);
  if (text === `/aws/lambda/\${${functionName}}`) return true;
  const written = writtenName(fn.Properties?.FunctionName);
  return written !== undefined && text === `/aws/lambda/${written}`;
}

function checkLogging(template: Template): Finding[] {
  const findings: Finding[] = [];
  const report = (path: TemplatePath, message: string) => findings.push({ path: findingPath(path), message });
  const resources = Object.entries(template.Resources);
  const awslogsGroup = (logConfiguration: unknown, path: TemplatePath, what: string) => {
    if (!isRecord(logConfiguration)) {
      report(path, `${what} has no LogConfiguration: its logs would go to an implicit log group`);
      return;
    }
    if (logConfiguration.LogDriver !== 'awslogs') return;
    const options = isRecord(logConfiguration.Options) ? logConfiguration.Options : {};
    if (logGroupTarget(options['awslogs-group'], template) === undefined)
      report(
        [...path, 'Options'],
        `${what} must send awslogs to a LogGroup this template declares (awslogs-group)`,
      );
  };

  for (const [name, resource] of resources) {
    const path = ['Resources', name];
    const properties = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::Logs::LogGroup':
        if (properties.RetentionInDays === undefined)
          report(
            [...path, 'Properties'],
            `log group ${name} has no RetentionInDays (logs would be kept forever)`,
          );
        break;
      case 'AWS::Lambda::Function': {
        const configured = isRecord(properties.LoggingConfig) ? properties.LoggingConfig.LogGroup : undefined;
        const explicit =
          (configured !== undefined && logGroupTarget(configured, template) !== undefined) ||
          resources.some(
            ([, r]) => r.Type === 'AWS::Logs::LogGroup' && namesLambdaLogGroup(r, name, resource),
          );
        if (!explicit)
          report(
            path,
            `function ${name} has no log group in this template (LoggingConfig.LogGroup or /aws/lambda/\${${name}})`,
          );
        break;
      }
      case 'AWS::ECS::TaskDefinition':
        list(properties.ContainerDefinitions).forEach((container, i) => {
          const containerPath = [...path, 'Properties', 'ContainerDefinitions', i];
          const label = isRecord(container) ? `container ${String(container.Name)}` : `container ${i}`;
          awslogsGroup(
            isRecord(container) ? container.LogConfiguration : undefined,
            [...containerPath, 'LogConfiguration'],
            label,
          );
        });
        break;
      case 'AWS::Batch::JobDefinition': {
        const container = properties.ContainerProperties;
        if (isRecord(container))
          awslogsGroup(
            container.LogConfiguration,
            [...path, 'Properties', 'ContainerProperties', 'LogConfiguration'],
            `job ${name}`,
          );
        const ranges = isRecord(properties.NodeProperties)
          ? list(properties.NodeProperties.NodeRangeProperties)
          : [];
        ranges.forEach((range, i) => {
          const rangeContainer = isRecord(range) ? range.Container : undefined;
          if (isRecord(rangeContainer))
            awslogsGroup(
              rangeContainer.LogConfiguration,
              [
                ...path,
                'Properties',
                'NodeProperties',
                'NodeRangeProperties',
                i,
                'Container',
                'LogConfiguration',
              ],
              `job ${name} node range ${i}`,
            );
        });
        break;
      }
      case 'AWS::ApiGateway::Stage': {
        const access = isRecord(properties.AccessLogSetting)
          ? properties.AccessLogSetting.DestinationArn
          : undefined;
        if (logGroupTarget(access, template) === undefined)
          report(
            [...path, 'Properties'],
            `stage ${name} must write access logs to a LogGroup this template declares`,
          );
        // Execution logging makes API Gateway create API-Gateway-Execution-Logs_<api>/<stage> itself,
        // kept forever, unless the template declares that group.
        const executionLogging = listedMappings(properties.MethodSettings).some(
          (setting) => setting.LoggingLevel !== undefined && setting.LoggingLevel !== 'OFF',
        );
        const executionGroup = resources.some(
          ([, r]) =>
            r.Type === 'AWS::Logs::LogGroup' &&
            writtenName(r.Properties?.LogGroupName)?.startsWith('API-Gateway-Execution-Logs_') === true,
        );
        if (executionLogging && !executionGroup)
          report(
            [...path, 'Properties', 'MethodSettings'],
            `stage ${name} logs execution to an implicit API-Gateway-Execution-Logs_ group: declare it with retention`,
          );
        break;
      }
    }
  }
  return findings;
}
