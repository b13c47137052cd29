// CloudFormation refuses a template whose resources depend on each other in a loop (the classic:
// a bucket's notification needs the function's permission, which names the bucket). Found here,
// before a deployment fails on it.
import { parseSubString, subArgument } from './sub-template.ts';
import type { Template } from './template-file.ts';
import type { Finding } from './template-finding.ts';
import { getAttTarget, intrinsicOf, walkValues } from './template-intrinsics.ts';

/**
 * Each resource's dependencies on other resources: `Ref`, `GetAtt`, `${Resource}` /
 * `${Resource.Attribute}` in `Sub` strings (in Properties, Metadata and the creation and update
 * policies), and `DependsOn`.
 *
 * @example
 * ```ts
 * resourceDependencies(template).get('BucketPolicy'); // Set { 'Bucket' }
 * ```
 */
export function resourceDependencies(template: Template): Map<string, Set<string>> {
  const names = new Set(Object.keys(template.Resources));
  const graph = new Map<string, Set<string>>();
  for (const [name, resource] of Object.entries(template.Resources)) {
    const found = new Set<string>([resource.DependsOn ?? []].flat().map(String));
    // References order creation wherever they appear in the resource, not only in its Properties.
    const referring = [
      resource.Properties,
      resource.Metadata,
      resource.CreationPolicy,
      resource.UpdatePolicy,
    ];
    walkValues(referring, [], (value) => {
      const call = intrinsicOf(value);
      if (call?.name === 'Ref' && typeof call.argument === 'string') found.add(call.argument);
      else if (call?.name === 'Fn::GetAtt') {
        const target = getAttTarget(call.argument);
        if (target) found.add(target.resource);
      } else if (call?.name === 'Fn::Sub') {
        const sub = subArgument(call.argument);
        for (const part of parseSubString(sub?.text ?? ''))
          if ('variable' in part && !(part.variable in (sub?.variables ?? {})))
            found.add(part.variable.split('.')[0] ?? '');
      }
    });
    graph.set(name, new Set([...found].filter((dependency) => names.has(dependency))));
  }
  return graph;
}

/**
 * One dependency cycle as a path (its first resource repeated at the end), or [] when there is none.
 *
 * @example
 * ```ts
 * findCycle(new Map([['A', new Set(['B'])], ['B', new Set(['A'])]])); // ['A', 'B', 'A']
 * ```
 */
export function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const walk = (name: string, path: string[]): string[] => {
    if (state.get(name) === 'done') return [];
    if (state.get(name) === 'open') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'open');
    for (const next of graph.get(name) ?? []) {
      const cycle = walk(next, [...path, name]);
      if (cycle.length > 0) return cycle;
    }
    state.set(name, 'done');
    return [];
  };
  for (const name of graph.keys()) {
    const cycle = walk(name, []);
    if (cycle.length > 0) return cycle;
  }
  return [];
}

/**
 * A finding for a dependency cycle among the template's resources.
 *
 * @example
 * ```ts
 * checkDependencyCycles(template); // [{ path: 'Resources', message: 'circular dependency: A → B → A' }]
 * ```
 */
export function checkDependencyCycles(template: Template): Finding[] {
  const cycle = findCycle(resourceDependencies(template));
  return cycle.length === 0
    ? []
    : [{ path: 'Resources', message: `circular dependency: ${cycle.join(' → ')}` }];
}
