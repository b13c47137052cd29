// Every name a template refers to exists and is unique (CloudFormation refuses a parameter and a
// resource of one name): Ref targets (parameters, resources, pseudo parameters),
// GetAtt resources, `${…}` variables of Fn::Sub, DependsOn targets, conditions and mappings; and
// every parameter is used somewhere (an unused one is a setting that silently does nothing).
import { parseSubString, subArgument } from './sub-template.ts';
import type { Template } from './template-file.ts';
import { type Finding, findingPath } from './template-finding.ts';
import {
  getAttTarget,
  intrinsicOf,
  isRecord,
  pseudoParameters,
  type TemplatePath,
  walkValues,
} from './template-intrinsics.ts';

/**
 * Checks that every reference resolves and every parameter is used.
 *
 * @example
 * ```ts
 * checkReferences(parseTemplate('Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: { QueueName: !Ref Missing }\n'));
 * // [{ path: 'Resources.Q.Properties.QueueName', message: 'Ref Missing: no parameter, resource or pseudo parameter of that name' }]
 * ```
 */
export function checkReferences(template: Template): Finding[] {
  const findings: Finding[] = [];
  const report = (path: TemplatePath, message: string) => findings.push({ path: findingPath(path), message });
  const parameters = template.Parameters ?? {};
  const resources = template.Resources;
  const conditions = template.Conditions ?? {};
  const used = new Set<string>();
  const isName = (name: string) => name in parameters || name in resources || pseudoParameters.has(name);
  for (const name of Object.keys(parameters))
    if (name in resources) report(['Parameters', name], `${name} names both a parameter and a resource`);
  const checkCondition = (name: unknown, path: TemplatePath) => {
    if (typeof name === 'string' && !(name in conditions)) report(path, `condition ${name} is not defined`);
  };

  // Parameter groups in Metadata name parameters without using them, so Metadata and Parameters are not walked.
  for (const section of ['Conditions', 'Resources', 'Outputs'] as const)
    walkValues(template[section], [section], (value, path) => {
      const call = intrinsicOf(value);
      if (call === undefined) {
        // `{ Condition: Name }` inside Conditions refers to another condition.
        if (
          section === 'Conditions' &&
          isRecord(value) &&
          Object.keys(value).length === 1 &&
          'Condition' in value
        )
          checkCondition(value.Condition, path);
        return;
      }
      const argument = call.argument;
      switch (call.name) {
        case 'Ref':
          if (typeof argument !== 'string') report(path, 'Ref takes a name');
          else if (!isName(argument))
            report(path, `Ref ${argument}: no parameter, resource or pseudo parameter of that name`);
          else used.add(argument);
          break;
        case 'Fn::GetAtt': {
          const target = getAttTarget(argument);
          if (target === undefined) report(path, 'Fn::GetAtt takes [resource, attribute]');
          else if (!(target.resource in resources))
            report(path, `Fn::GetAtt ${target.resource}: no such resource`);
          break;
        }
        case 'Fn::Sub': {
          const sub = subArgument(argument);
          if (sub === undefined) {
            report(path, 'Fn::Sub takes a string or [string, { variables }]');
            break;
          }
          for (const part of parseSubString(sub.text)) {
            if (!('variable' in part) || part.variable in sub.variables) continue;
            const dot = part.variable.indexOf('.');
            if (dot > 0) {
              const resource = part.variable.slice(0, dot);
              if (!(resource in resources))
                report(path, `Fn::Sub \${${part.variable}}: no resource ${resource}`);
            } else if (!isName(part.variable))
              report(
                path,
                `Fn::Sub \${${part.variable}}: no parameter, resource or pseudo parameter of that name`,
              );
            else used.add(part.variable);
          }
          break;
        }
        case 'Fn::If':
          if (Array.isArray(argument)) checkCondition(argument[0], path);
          break;
        case 'Fn::FindInMap':
          if (
            Array.isArray(argument) &&
            typeof argument[0] === 'string' &&
            !(argument[0] in (template.Mappings ?? {}))
          )
            report(path, `Fn::FindInMap ${argument[0]}: no such mapping`);
          break;
      }
    });

  for (const [name, resource] of Object.entries(resources)) {
    const dependsOn = resource.DependsOn === undefined ? [] : [resource.DependsOn].flat();
    for (const target of dependsOn)
      if (typeof target !== 'string' || !(target in resources))
        report(['Resources', name, 'DependsOn'], `DependsOn ${String(target)}: no such resource`);
    if (resource.Condition !== undefined)
      checkCondition(resource.Condition, ['Resources', name, 'Condition']);
  }
  for (const [name, output] of Object.entries(template.Outputs ?? {}))
    if (output.Condition !== undefined) checkCondition(output.Condition, ['Outputs', name, 'Condition']);

  for (const name of Object.keys(parameters))
    if (!used.has(name)) report(['Parameters', name], `parameter ${name} is never used`);
  return findings;
}
