// What every template check reports: where in the template (a dotted path such as
// `Resources.Api.Properties.Environment`) and what is wrong, in words a template author can act on.

/** One problem a check found in a template. */
export interface Finding {
  /** Dotted path into the template, e.g. `Resources.Queue.Properties.VisibilityTimeout`. */
  readonly path: string;
  readonly message: string;
}

/** A finding with the template file it came from. */
export interface TemplateFinding extends Finding {
  /** The template's file name, e.g. `network.yaml`. */
  readonly template: string;
}

/**
 * Joins path segments into the dotted form findings use (list indexes in brackets).
 *
 * @example
 * ```ts
 * findingPath(['Resources', 'Task', 'Properties', 'ContainerDefinitions', 0, 'Environment']);
 * // 'Resources.Task.Properties.ContainerDefinitions[0].Environment'
 * ```
 */
export function findingPath(segments: readonly (string | number)[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}
