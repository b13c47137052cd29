// All template checks in one pass, so the test over deploy/templates and anyone editing a template
// get one list of findings, each naming its template, path and problem.
import { checkConventions } from './check-conventions.ts';
import { checkDependencyCycles } from './check-dependency-cycles.ts';
import { checkEnvironment } from './check-environment.ts';
import { checkLeastPrivilege } from './check-least-privilege.ts';
import { checkImports, checkOutputDocumentation, checkOutputs } from './check-outputs.ts';
import { checkReferences } from './check-references.ts';
import { checkResourceTypes } from './check-resource-types.ts';
import type { ResourceSpec } from './resource-spec.ts';
import type { Template } from './template-file.ts';
import type { Finding, TemplateFinding } from './template-finding.ts';

/** What validating one template needs beside the template itself. */
export interface ValidationContext {
  readonly spec: ResourceSpec;
  /** The network template, whose outputs the other templates import. */
  readonly network: Template;
  /** deploy/README.md's text, which documents every template's outputs. */
  readonly readme: string;
}

/**
 * Runs every check on one template.
 *
 * @example
 * ```ts
 * const findings = validateTemplate('fossa.yaml', loadTemplate(file), {
 *   spec: await loadResourceSpec(),
 *   network: loadTemplate(networkFile),
 *   readme: readFileSync(readmeFile, 'utf8'),
 * });
 * ```
 */
export function validateTemplate(
  file: string,
  template: Template,
  context: ValidationContext,
): TemplateFinding[] {
  const findings: Finding[] = [
    ...checkResourceTypes(template, context.spec),
    ...checkReferences(template),
    ...checkDependencyCycles(template),
    ...checkOutputs(template),
    ...checkImports(template, context.network),
    ...checkOutputDocumentation(file, template, context.readme),
    ...checkLeastPrivilege(template),
    ...checkEnvironment(template),
    ...checkConventions(template),
  ];
  return findings.map((finding) => ({ template: file, ...finding }));
}
