import type { JsonObject } from '@spotjobs/core';
import { ValidationError } from '@spotjobs/core';
import { UnresolvedTemplateError } from '../errors.ts';

/** A resolver value: what a `{name}` in a template can stand for. */
export type ResolverValue = string | number | boolean;

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
// `{{` and `}}` are literal braces (as in Python's str.format); `{name}` is a variable.
const TEMPLATE_PART = /\{\{|\}\}|\{([^{}]*)\}|[{}]/g;

/**
 * Every problem with `value` as a resolver context (an object of scalar values under
 * identifier names), or an empty list. `path` names it in the problems.
 *
 * @example
 * ```ts
 * resolverContextProblems({ 'a b': 1, c: [] }, 'resolver_context'); // two problems
 * ```
 */
export function resolverContextProblems(value: unknown, path: string): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${path} must be an object`];
  const problems: string[] = [];
  for (const [name, entry] of Object.entries(value)) {
    if (!NAME.test(name)) problems.push(`${path} name ${JSON.stringify(name)} is not an identifier`);
    const scalar =
      typeof entry === 'string' ||
      typeof entry === 'boolean' ||
      (typeof entry === 'number' && Number.isFinite(entry));
    if (!scalar) problems.push(`${path}.${name} must be a string, a finite number or a boolean`);
  }
  return problems;
}

/**
 * Aye-Aye's connector resolver, without the global: the template variables a task runs with
 * (Fossa's `resolver_context`). Models resolve dataset URIs and settings with it, and a
 * partitioned model hands `capture()` to every subtask, so subtasks on any node see the
 * parent's values. Immutable; `with` layers more values on top.
 *
 * @example
 * ```ts
 * const resolver = ResolverContext.from({ output_datasets: '/data/out', requested_workers: 4 });
 * resolver.resolve('{output_datasets}/results.csv'); // '/data/out/results.csv'
 * resolver.get('requested_workers'); // 4
 * ```
 */
export class ResolverContext {
  static readonly empty = new ResolverContext(new Map());

  readonly #values: ReadonlyMap<string, ResolverValue>;

  private constructor(values: ReadonlyMap<string, ResolverValue>) {
    this.#values = values;
  }

  /** A context from a plain object (e.g. a task's `resolver_context`); throws `ValidationError` when it is not one. */
  static from(values: unknown): ResolverContext {
    const problems = resolverContextProblems(values, 'resolver_context');
    if (problems.length > 0) throw new ValidationError('invalid resolver context', problems);
    return new ResolverContext(new Map(Object.entries(values as Record<string, ResolverValue>)));
  }

  /** The value of `name`, or `undefined`. */
  get(name: string): ResolverValue | undefined {
    return this.#values.get(name);
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  /**
   * `template` with each `{name}` replaced by its value; `{{` and `}}` stand for literal braces.
   * Throws `UnresolvedTemplateError` naming every variable without a value, and
   * `ValidationError` for a stray brace or a name that is not an identifier.
   */
  resolve(template: string): string {
    const missing = new Set<string>();
    const resolved = template.replace(TEMPLATE_PART, (part, name: string | undefined) => {
      if (part === '{{') return '{';
      if (part === '}}') return '}';
      if (name === undefined || !NAME.test(name)) {
        throw new ValidationError(`invalid template ${JSON.stringify(template)}`, [
          `${JSON.stringify(part)} is neither {name} nor an escaped brace ({{ or }})`,
        ]);
      }
      const value = this.#values.get(name);
      if (value === undefined) {
        missing.add(name);
        return part;
      }
      return String(value);
    });
    if (missing.size > 0) throw new UnresolvedTemplateError(template, [...missing]);
    return resolved;
  }

  /** A new context with `values` added (they win over existing names). */
  with(values: Readonly<Record<string, ResolverValue>>): ResolverContext {
    const problems = resolverContextProblems(values, 'resolver values');
    if (problems.length > 0) throw new ValidationError('invalid resolver values', problems);
    return new ResolverContext(new Map([...this.#values, ...Object.entries(values)]));
  }

  /** The values as a plain JSON object, to send with subtasks (Aye-Aye's `capture_context()["mapper"]`). */
  capture(): JsonObject {
    return Object.fromEntries(this.#values);
  }
}
