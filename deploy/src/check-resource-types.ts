// Every resource type exists in the CloudFormation specification; every property written exists on
// its type (recursively into nested property types where the value is written out literally);
// required properties are present; every GetAtt names an attribute the resource type has.
// Intrinsic values are accepted wherever a value goes: their result is only known at deploy time.

import type { PropertyType, ResourceSpec, TypeDefinition } from './resource-spec.ts';
import { parseSubString, subArgument } from './sub-template.ts';
import type { Template } from './template-file.ts';
import { type Finding, findingPath } from './template-finding.ts';
import { getAttTarget, intrinsicOf, isRecord, type TemplatePath, walkValues } from './template-intrinsics.ts';

/** Keys a resource may carry beside Type and Properties. */
const resourceKeys = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'Metadata',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'UpdatePolicy',
  'CreationPolicy',
]);

const isCustomResource = (type: string) =>
  type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';

/**
 * Checks resource types, property names (nested too), required properties and GetAtt attributes.
 *
 * @example
 * ```ts
 * checkResourceTypes(parseTemplate('Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: { VisibilityTimout: 30 }\n'), await loadResourceSpec());
 * // [{ path: 'Resources.Q.Properties.VisibilityTimout', message: 'AWS::SQS::Queue has no property VisibilityTimout' }]
 * ```
 */
export function checkResourceTypes(template: Template, spec: ResourceSpec): Finding[] {
  const findings: Finding[] = [];
  const report = (path: TemplatePath, message: string) => findings.push({ path: findingPath(path), message });

  for (const [name, resource] of Object.entries(template.Resources)) {
    const path = ['Resources', name];
    for (const key of Object.keys(resource))
      if (!resourceKeys.has(key)) report([...path, key], `a resource has no attribute ${key}`);
    if (typeof resource.Type !== 'string') {
      report([...path, 'Type'], 'the resource has no Type');
      continue;
    }
    if (isCustomResource(resource.Type)) continue;
    const type = spec.resourceType(resource.Type);
    if (type === undefined) {
      report([...path, 'Type'], `${resource.Type} is not a CloudFormation resource type`);
      continue;
    }
    const properties = resource.Properties ?? {};
    if (!isRecord(properties)) report([...path, 'Properties'], 'Properties must be a mapping');
    else
      findings.push(
        ...checkStruct(
          properties,
          { name: resource.Type, properties: type.properties },
          [...path, 'Properties'],
          spec,
        ),
      );
  }

  const attributeFindings = (resourceName: string, attribute: string | undefined, path: TemplatePath) => {
    const type = template.Resources[resourceName]?.Type;
    if (attribute === undefined || typeof type !== 'string' || isCustomResource(type)) return;
    const attributes = spec.resourceType(type)?.attributes;
    if (attributes === undefined || attribute in attributes) return;
    // Nested stacks expose their outputs as `Outputs.<Key>`.
    if (type === 'AWS::CloudFormation::Stack' && attribute.startsWith('Outputs.')) return;
    report(
      path,
      `${type} has no attribute ${attribute} (it has ${Object.keys(attributes).join(', ') || 'none'})`,
    );
  };
  for (const section of ['Resources', 'Outputs'] as const)
    walkValues(template[section], [section], (value, path) => {
      const call = intrinsicOf(value);
      if (call?.name === 'Fn::GetAtt') {
        const target = getAttTarget(call.argument);
        if (target !== undefined) attributeFindings(target.resource, target.attribute, path);
      } else if (call?.name === 'Fn::Sub') {
        const sub = subArgument(call.argument);
        for (const part of sub === undefined ? [] : parseSubString(sub.text)) {
          if (!('variable' in part) || part.variable in sub!.variables) continue;
          const dot = part.variable.indexOf('.');
          if (dot > 0) attributeFindings(part.variable.slice(0, dot), part.variable.slice(dot + 1), path);
        }
      }
    });
  return findings;
}

type Struct = Pick<TypeDefinition, 'name' | 'properties'>;

function checkStruct(
  value: Record<string, unknown>,
  struct: Struct,
  path: TemplatePath,
  spec: ResourceSpec,
): Finding[] {
  const findings: Finding[] = [];
  for (const [key, item] of Object.entries(value)) {
    const property = struct.properties[key];
    if (property === undefined) {
      findings.push({ path: findingPath([...path, key]), message: `${struct.name} has no property ${key}` });
      continue;
    }
    findings.push(
      ...checkValue(item, [property.type, ...(property.previousTypes ?? [])], [...path, key], spec),
    );
  }
  for (const [key, property] of Object.entries(struct.properties))
    if (property.required === true && !(key in value))
      findings.push({ path: findingPath(path), message: `${struct.name} requires property ${key}` });
  return findings;
}

/** Findings for `value` against any of `types` (the least of them: a value fits if one type fits). */
function checkValue(
  value: unknown,
  types: readonly PropertyType[],
  path: TemplatePath,
  spec: ResourceSpec,
): Finding[] {
  const call = intrinsicOf(value);
  // Both branches of a condition are written out, so both are checked; other intrinsics are known only at deploy time.
  if (call?.name === 'Fn::If' && Array.isArray(call.argument)) {
    const branches: unknown[] = call.argument;
    return [1, 2].flatMap((i) => checkValue(branches[i], types, [...path, 'Fn::If', i], spec));
  }
  if (call !== undefined) return [];
  let best: Finding[] | undefined;
  for (const type of types) {
    const findings = checkOne(value, type, path, spec);
    if (findings.length === 0) return [];
    if (best === undefined || findings.length < best.length) best = findings;
  }
  return best ?? [];
}

function checkOne(value: unknown, type: PropertyType, path: TemplatePath, spec: ResourceSpec): Finding[] {
  const at = findingPath(path);
  switch (type.type) {
    case 'union':
      return checkValue(value, type.types, path, spec);
    case 'ref': {
      const definition = spec.typeDefinition(type.reference);
      if (!isRecord(value)) return [{ path: at, message: `${definition.name} must be a mapping` }];
      return checkStruct(value, definition, path, spec);
    }
    case 'array':
      if (!Array.isArray(value)) return [{ path: at, message: 'must be a list' }];
      return value.flatMap((item, i) => checkValue(item, [type.element], [...path, i], spec));
    case 'map':
      if (!isRecord(value)) return [{ path: at, message: 'must be a mapping' }];
      return Object.entries(value).flatMap(([key, item]) =>
        checkValue(item, [type.element], [...path, key], spec),
      );
    case 'json':
      return [];
    case 'tag':
      return isRecord(value) && 'Key' in value && 'Value' in value
        ? []
        : [{ path: at, message: 'a tag is a mapping with Key and Value' }];
    default:
      // A scalar: CloudFormation converts between strings, numbers and booleans, but not from lists or mappings.
      return typeof value === 'object' && value !== null
        ? [{ path: at, message: `must be a ${type.type}` }]
        : [];
  }
}
