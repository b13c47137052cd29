// What every template test starts from: the parsed template and lookups that fail loudly when
// a resource the test expects is gone (a renamed resource reads as a clear error, not undefined).
import { loadTemplate, type Template, type TemplateResource } from '../../src/template-file.ts';

export type Json = Record<string, unknown>;

/** An IAM policy statement as the templates write it. */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Json;
}

/** A value or a list of them, as a list (IAM's Action and Resource take either). */
export const asList = <T>(value: T | readonly T[]): T[] => (Array.isArray(value) ? [...value] : [value as T]);

export interface TemplateFixture {
  readonly template: Template;
  /** The resource, or an error naming the template and the missing resource. */
  resource(name: string): TemplateResource;
  /** The resource's Properties ({} when it has none). */
  props(name: string): Json;
  /** Logical ids of every resource of `type`, in template order. */
  namesOfType(type: string): string[];
  /** Every statement of a role's inline policies, conditional ones (`!If [c, statement, NoValue]`) included. */
  statements(role: string): Statement[];
}

/**
 * Loads `deploy/templates/<file>` for a test.
 *
 * @example
 * ```ts
 * const { resource, props } = templateFixture('batch.yaml');
 * expect(props('IoBucket').VersioningConfiguration).toEqual({ Status: 'Enabled' });
 * ```
 */
export function templateFixture(file: string): TemplateFixture {
  const template = loadTemplate(new URL(`../../templates/${file}`, import.meta.url));
  const resource = (name: string): TemplateResource => {
    const found = template.Resources[name];
    if (!found) throw new Error(`${file} has no resource ${name}`);
    return found;
  };
  const props = (name: string): Json => (resource(name).Properties ?? {}) as Json;
  return {
    template,
    resource,
    props,
    namesOfType: (type) =>
      Object.entries(template.Resources)
        .filter(([, r]) => r.Type === type)
        .map(([name]) => name),
    statements: (role) =>
      ((props(role).Policies ?? []) as { PolicyDocument: { Statement: unknown[] } }[])
        .flatMap((policy) => policy.PolicyDocument.Statement)
        .map((s) =>
          typeof s === 'object' && s !== null && 'Fn::If' in s ? ((s as Json)['Fn::If'] as unknown[])[1] : s,
        )
        .filter((s): s is Statement => typeof s === 'object' && s !== null && 'Action' in s),
  };
}
