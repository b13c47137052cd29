import type { JsonObject } from '@spotjobs/core';
import { InvalidTaskSpecError } from '../errors.ts';
import { resolverContextProblems } from './resolver-context.ts';
import { isJsonObject } from './wire-json.ts';

/**
 * What to run: Fossa's task message, field for field (compat: it is the body of a submission
 * and of a subtask message). `method` defaults to `go`, the kwargs and the resolver context to
 * `{}`. Obtain one from `checkTaskSpec`.
 */
export type TaskSpec = {
  readonly model_class: string;
  readonly method: string;
  readonly method_kwargs: JsonObject;
  readonly model_construction_kwargs: JsonObject;
  readonly partition_initialise_kwargs: JsonObject;
  readonly resolver_context: JsonObject;
};

/** What a caller may give: `model_class` and any of the rest. */
export type TaskSpecInput = { readonly model_class: string } & Partial<Omit<TaskSpec, 'model_class'>>;

export const TaskSpecLimits = {
  /** Class and method names: identifiers of at most this many characters. */
  maxNameLength: 128,
  /**
   * The whole spec as JSON, in UTF-8 bytes. A subtask spec travels in one queue message (SQS
   * takes 256 KiB), with room left for the envelope.
   */
  maxSpecBytes: 200_000,
} as const;

const IDENTIFIER = new RegExp(`^[A-Za-z_][A-Za-z0-9_]{0,${TaskSpecLimits.maxNameLength - 1}}$`);
const OBJECT_FIELDS = ['method_kwargs', 'model_construction_kwargs', 'partition_initialise_kwargs'] as const;

/**
 * Validates a task spec at a boundary (an HTTP body, a queue message) and fills in the
 * defaults. Throws `InvalidTaskSpecError` listing every problem; a missing `model_class` is
 * Fossa's "'model_class' is a mandatory field". Unknown fields are ignored, as Fossa does.
 * Whether the class is accepted is the registry's question, not this one's.
 *
 * @example
 * ```ts
 * checkTaskSpec({ model_class: 'NothingEtl' });
 * // { model_class: 'NothingEtl', method: 'go', method_kwargs: {}, model_construction_kwargs: {},
 * //   partition_initialise_kwargs: {}, resolver_context: {} }
 * ```
 */
export function checkTaskSpec(input: unknown): TaskSpec {
  if (!isJsonObject(input)) throw new InvalidTaskSpecError(['the task spec must be a JSON object']);
  const problems: string[] = [];
  const { model_class, method = 'go' } = input;
  if (model_class === undefined || model_class === null) problems.push("'model_class' is a mandatory field");
  else if (typeof model_class !== 'string' || !IDENTIFIER.test(model_class))
    problems.push(
      `'model_class' must be an identifier of at most ${TaskSpecLimits.maxNameLength} characters`,
    );
  if (typeof method !== 'string' || !IDENTIFIER.test(method))
    problems.push(`'method' must be an identifier of at most ${TaskSpecLimits.maxNameLength} characters`);
  for (const field of OBJECT_FIELDS) {
    const value = input[field];
    if (value !== undefined && value !== null && !isJsonObject(value))
      problems.push(`'${field}' must be an object`);
  }
  const resolverContext = input.resolver_context ?? {};
  problems.push(...resolverContextProblems(resolverContext, "'resolver_context'"));
  if (problems.length > 0) throw new InvalidTaskSpecError(problems);

  const spec: TaskSpec = {
    model_class: model_class as string,
    method: method as string,
    method_kwargs: (input.method_kwargs ?? {}) as JsonObject,
    model_construction_kwargs: (input.model_construction_kwargs ?? {}) as JsonObject,
    partition_initialise_kwargs: (input.partition_initialise_kwargs ?? {}) as JsonObject,
    resolver_context: resolverContext as JsonObject,
  };
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(spec));
  } catch (err) {
    throw new InvalidTaskSpecError(['the task spec is not JSON'], { cause: err });
  }
  if (bytes > TaskSpecLimits.maxSpecBytes) {
    throw new InvalidTaskSpecError([
      `the task spec is ${bytes} bytes of JSON, more than ${TaskSpecLimits.maxSpecBytes}`,
    ]);
  }
  return spec;
}
