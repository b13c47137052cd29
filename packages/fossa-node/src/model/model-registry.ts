import type { JsonObject } from '@spotjobs/core';
import { ValidationError } from '@spotjobs/core';
import { MethodNotAllowedError, UnknownModelClassError } from '../errors.ts';
import { Model } from './model.ts';
import type { ModelContext } from './model-context.ts';
import { TaskSpecLimits } from './task-spec.ts';

/** A concrete model class: what the registry holds. */
export type ModelClass = {
  new (context: ModelContext, kwargs: JsonObject): Model;
  readonly name: string;
  /** Methods a task may call by name (see `Model.methods`). */
  readonly methods: readonly string[];
};

const IDENTIFIER = new RegExp(`^[A-Za-z_][A-Za-z0-9_]{0,${TaskSpecLimits.maxNameLength - 1}}$`);

/**
 * The node's allow-list of model classes, by name (Fossa's `ACCEPTED_MODEL_CLASSES`). Tasks
 * name a class; `resolve` answers it or throws `UnknownModelClassError`, which the node turns
 * into a 412, for HTTP submissions and queued subtasks alike. There is no dynamic import:
 * only registered classes can ever run, and only the methods each class lists.
 *
 * @example
 * ```ts
 * const registry = new ModelRegistry().register('NothingEtl', NothingEtl);
 * registry.resolve('NothingEtl'); // NothingEtl
 * registry.resolve('Nope'); // throws UnknownModelClassError
 * ```
 */
export class ModelRegistry {
  readonly #classes = new Map<string, ModelClass>();
  readonly #names = new Map<ModelClass, string>();

  /** A registry of `classes`, each under its class name (as Fossa registers `__name__`). */
  static of(classes: readonly ModelClass[]): ModelRegistry {
    const registry = new ModelRegistry();
    for (const modelClass of classes) registry.register(modelClass.name, modelClass);
    return registry;
  }

  /**
   * Accepts `modelClass` under `name`. Throws `ValidationError` for a name that is not an
   * identifier or is taken, a class registered twice, something that is not a `Model`
   * subclass, or a listed method the class does not have.
   */
  register(name: string, modelClass: ModelClass): this {
    const problems: string[] = [];
    if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
      problems.push(
        `name ${JSON.stringify(name)} must be an identifier of at most ${TaskSpecLimits.maxNameLength} characters`,
      );
    } else if (this.#classes.has(name)) problems.push(`${name} already exists as an accepted class`);
    if (typeof modelClass !== 'function' || !(modelClass.prototype instanceof Model)) {
      problems.push(`${name} is not a Model subclass`);
    } else {
      if (this.#names.has(modelClass))
        problems.push(`the class is already accepted as ${this.#names.get(modelClass)}`);
      problems.push(...methodProblems(modelClass));
    }
    if (problems.length > 0) throw new ValidationError('cannot accept the model class', problems);
    this.#classes.set(name, modelClass);
    this.#names.set(modelClass, name);
    return this;
  }

  has(name: string): boolean {
    return this.#classes.has(name);
  }

  /** The class accepted under `name`; `UnknownModelClassError` when there is none. */
  resolve(name: string): ModelClass {
    const modelClass = this.#classes.get(name);
    if (!modelClass) throw new UnknownModelClassError(name);
    return modelClass;
  }

  /** The name `modelClass` is accepted under, or `undefined`. */
  nameOf(modelClass: ModelClass): string | undefined {
    return this.#names.get(modelClass);
  }

  /** Every accepted name, sorted. */
  names(): string[] {
    return [...this.#classes.keys()].sort();
  }

  /** Throws `MethodNotAllowedError` unless the class accepted under `name` lists `method`. */
  assertCallable(name: string, method: string): ModelClass {
    const modelClass = this.resolve(name);
    if (!modelClass.methods.includes(method)) throw new MethodNotAllowedError(name, method);
    return modelClass;
  }
}

function methodProblems(modelClass: ModelClass): string[] {
  const { methods } = modelClass;
  if (!Array.isArray(methods)) return ['the static methods must be an array of method names'];
  const problems: string[] = [];
  for (const method of methods) {
    if (typeof method !== 'string' || !IDENTIFIER.test(method) || method === 'constructor') {
      problems.push(`${JSON.stringify(method)} cannot be a callable method`);
    } else if (typeof (modelClass.prototype as unknown as Record<string, unknown>)[method] !== 'function') {
      problems.push(`${modelClass.name} lists ${method} in methods but has no such method`);
    }
  }
  return problems;
}
