// Outputs are the stacks' interface to each other and to operators: each is described, exported as
// `${AWS::StackName}-<Key>`, documented in deploy/README.md, and every import names an export the
// network stack really has.
import { subArgument } from './sub-template.ts';
import type { Template } from './template-file.ts';
import { type Finding, findingPath } from './template-finding.ts';
import { intrinsicOf, walkValues } from './template-intrinsics.ts';

/**
 * Checks that every output has a Description and `Export.Name: !Sub '${AWS::StackName}-<Key>'`.
 *
 * @example
 * ```ts
 * checkOutputs(parseTemplate('Resources: {}\nOutputs:\n  VpcId:\n    Value: x\n'));
 * // findings: no Description, no Export
 * ```
 */
export function checkOutputs(template: Template): Finding[] {
  const findings: Finding[] = [];
  for (const [key, output] of Object.entries(template.Outputs ?? {})) {
    const path = findingPath(['Outputs', key]);
    if (typeof output.Description !== 'string' || output.Description.trim() === '')
      findings.push({ path, message: `output ${key} has no Description` });
    const name = intrinsicOf(output.Export?.Name);
    const expected = `\${AWS::StackName}-${key}`;
    if (name?.name !== 'Fn::Sub' || name.argument !== expected)
      findings.push({ path, message: `output ${key} must be exported as !Sub '${expected}'` });
  }
  return findings;
}

/**
 * Checks every `Fn::ImportValue`: it must be `!Sub '${NetworkStack}-<Output>'` naming an output the
 * network template exports.
 *
 * @example
 * ```ts
 * checkImports(fossa, network); // [] when fossa imports only VpcId, PrivateSubnetIds … that network.yaml exports
 * ```
 */
export function checkImports(template: Template, network: Template): Finding[] {
  const findings: Finding[] = [];
  const exported = new Set(Object.keys(network.Outputs ?? {}));
  for (const section of ['Conditions', 'Resources', 'Outputs'] as const)
    walkValues(template[section], [section], (value, path) => {
      const call = intrinsicOf(value);
      if (call?.name !== 'Fn::ImportValue') return;
      const inner = intrinsicOf(call.argument);
      const text = inner?.name === 'Fn::Sub' ? subArgument(inner.argument)?.text : undefined;
      const output = text === undefined ? undefined : /^\$\{NetworkStack\}-([A-Za-z0-9]+)$/.exec(text)?.[1];
      if (output === undefined)
        findings.push({
          path: findingPath(path),
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the CloudFormation Sub the contract asks for
          message: "Fn::ImportValue must be !Sub '${NetworkStack}-<Output>' (the network contract)",
        });
      else if (!exported.has(output))
        findings.push({ path: findingPath(path), message: `the network stack exports no output ${output}` });
    });
  return findings;
}

/**
 * The output keys deploy/README.md documents for one template: the first column (a key in
 * backticks) of the table under the heading `### <template file>`; undefined without that heading.
 *
 * @example
 * ```ts
 * documentedOutputs('### network.yaml\n\n| Output | Value |\n|---|---|\n| `VpcId` | the VPC |\n', 'network.yaml');
 * // ['VpcId']
 * ```
 */
export function documentedOutputs(readme: string, templateFile: string): string[] | undefined {
  const lines = readme.split(/\r?\n/);
  const start = lines.findIndex((line) => line.trim() === `### ${templateFile}`);
  if (start < 0) return undefined;
  const keys: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,3}\s/.test(line)) break;
    const first = /^\s*\|\s*`([^`]+)`\s*\|/.exec(line);
    if (first?.[1] !== undefined) keys.push(first[1]);
  }
  return keys;
}

/**
 * Checks that the README's table for `templateFile` lists exactly the template's outputs.
 *
 * @example
 * ```ts
 * checkOutputDocumentation('network.yaml', network, readFileSync('deploy/README.md', 'utf8'));
 * ```
 */
export function checkOutputDocumentation(
  templateFile: string,
  template: Template,
  readme: string,
): Finding[] {
  const outputs = Object.keys(template.Outputs ?? {});
  const documented = documentedOutputs(readme, templateFile);
  if (documented === undefined)
    return outputs.length === 0
      ? []
      : [
          {
            path: 'Outputs',
            message: `deploy/README.md has no "### ${templateFile}" section documenting the outputs`,
          },
        ];
  return [
    ...outputs
      .filter((key) => !documented.includes(key))
      .map((key) => ({
        path: findingPath(['Outputs', key]),
        message: `output ${key} is not documented in deploy/README.md`,
      })),
    ...documented
      .filter((key) => !outputs.includes(key))
      .map((key) => ({
        path: 'Outputs',
        message: `deploy/README.md documents ${key}, which ${templateFile} does not output`,
      })),
  ];
}
