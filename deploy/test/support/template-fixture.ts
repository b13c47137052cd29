// What every template test starts from: the parsed template and lookups that fail loudly when
// a resource the test expects is gone (a renamed resource reads as a clear error, not undefined).
import { loadTemplate, type Template, type TemplateResource } from '../../src/template-file.ts';

export type Json = Record<string, unknown>;

export interface TemplateFixture {
  readonly template: Template;
  /** The resource, or an error naming the template and the missing resource. */
  resource(name: string): TemplateResource;
  /** The resource's Properties ({} when it has none). */
  props(name: string): Json;
  /** Logical ids of every resource of `type`, in template order. */
  namesOfType(type: string): string[];
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
  return {
    template,
    resource,
    props: (name) => (resource(name).Properties ?? {}) as Json,
    namesOfType: (type) =>
      Object.entries(template.Resources)
        .filter(([, r]) => r.Type === type)
        .map(([name]) => name),
  };
}
