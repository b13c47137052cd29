import { ValidationError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { InvalidTaskSpecError, UnresolvedTemplateError } from '../src/errors.ts';
import { ResolverContext } from '../src/model/resolver-context.ts';
import { exceptionClassName, taskFailed } from '../src/model/task-messages.ts';
import { checkTaskSpec, TaskSpecLimits } from '../src/model/task-spec.ts';

function issuesOf(input: unknown): readonly string[] {
  try {
    checkTaskSpec(input);
  } catch (err) {
    if (err instanceof InvalidTaskSpecError) return err.issues;
    throw err;
  }
  return [];
}

describe('checkTaskSpec', () => {
  it('fills in Fossa’s defaults and ignores unknown fields', () => {
    expect(checkTaskSpec({ model_class: 'NothingEtl', on_completion_callback: 'x' })).toEqual({
      model_class: 'NothingEtl',
      method: 'go',
      method_kwargs: {},
      model_construction_kwargs: {},
      partition_initialise_kwargs: {},
      resolver_context: {},
    });
  });

  it("says 'model_class' is a mandatory field, as Fossa does", () => {
    expect(issuesOf({ method: 'go' })).toEqual(["'model_class' is a mandatory field"]);
  });

  it('lists every problem at once', () => {
    expect(
      issuesOf({
        model_class: 7,
        method: '__proto__.x',
        method_kwargs: [],
        model_construction_kwargs: 'a',
        partition_initialise_kwargs: 3,
        resolver_context: { 'bad name': 1, list: [1] },
      }),
    ).toEqual([
      "'model_class' must be an identifier of at most 128 characters",
      "'method' must be an identifier of at most 128 characters",
      "'method_kwargs' must be an object",
      "'model_construction_kwargs' must be an object",
      "'partition_initialise_kwargs' must be an object",
      `'resolver_context' name "bad name" is not an identifier`,
      "'resolver_context'.list must be a string, a finite number or a boolean",
    ]);
  });

  it('refuses a spec that is not an object, and one too big for a queue message', () => {
    expect(issuesOf('NothingEtl')).toEqual(['the task spec must be a JSON object']);
    const huge = {
      model_class: 'NothingEtl',
      method_kwargs: { blob: 'x'.repeat(TaskSpecLimits.maxSpecBytes) },
    };
    expect(issuesOf(huge)[0]).toMatch(/more than 200000/);
  });
});

describe('ResolverContext', () => {
  it('resolves {name} templates, with {{ and }} as literal braces', () => {
    const resolver = ResolverContext.from({ out: '/data/out', workers: 4, on: true });

    expect(resolver.resolve('{out}/w{workers}-{on}.csv')).toBe('/data/out/w4-true.csv');
    expect(resolver.resolve('{{out}} stays')).toBe('{out} stays');
    expect(resolver.get('workers')).toBe(4);
  });

  it('names every unresolved variable, and refuses stray braces', () => {
    const resolver = ResolverContext.from({ a: 1 });

    expect(() => resolver.resolve('{a}/{b}/{c}/{b}')).toThrow(UnresolvedTemplateError);
    try {
      resolver.resolve('{a}/{b}/{c}');
    } catch (err) {
      expect((err as UnresolvedTemplateError).names).toEqual(['b', 'c']);
    }
    expect(() => resolver.resolve('a}b')).toThrow(ValidationError);
    expect(() => resolver.resolve('{a b}')).toThrow(ValidationError);
  });

  it('layers values with `with`, and captures plain JSON for subtasks', () => {
    const base = ResolverContext.from({ a: 1, b: 'x' });

    const layered = base.with({ b: 'y', c: false });

    expect(layered.capture()).toEqual({ a: 1, b: 'y', c: false });
    expect(base.capture()).toEqual({ a: 1, b: 'x' });
    expect(() => base.with({ d: [] as unknown as string })).toThrow(ValidationError);
  });
});

describe('task messages', () => {
  it('names exception classes as Python prints types', () => {
    class ZeroDivisionError extends Error {}
    expect(exceptionClassName(new ZeroDivisionError('x'))).toBe("<class 'ZeroDivisionError'>");
    expect(exceptionClassName(new RangeError('x'))).toBe("<class 'RangeError'>");
    expect(exceptionClassName(AbortSignal.abort().reason)).toBe("<class 'AbortError'>");
    expect(exceptionClassName('text')).toBe("<class 'string'>");
  });

  it('builds a TaskFailed from whatever arrived, taking only well-typed fields, and follows causes', () => {
    const failed = taskFailed(
      { model_class: 'M', method: 5, method_kwargs: { a: 1 } },
      'id1',
      new Error('outer', { cause: new Error('inner') }),
    );

    expect(failed.payload).toMatchObject({
      model_class_name: 'M',
      method_name: 'go',
      method_kwargs: { a: 1 },
      task_id: 'id1',
    });
    expect(failed.payload.traceback[0]).toBe('Error: outer');
    expect(failed.payload.traceback).toContain('Caused by:');
    expect(failed.payload.traceback).toContain('Error: inner');
  });
});
