import { ValidationError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { MethodNotAllowedError, UnknownModelClassError } from '../src/errors.ts';
import { exampleModelRegistry } from '../src/examples/example-models.ts';
import { NothingEtl } from '../src/examples/nothing-etl.ts';
import { PartialFailure } from '../src/examples/partial-failure.ts';
import { Model } from '../src/model/model.ts';
import { type ModelClass, ModelRegistry } from '../src/model/model-registry.ts';

describe('ModelRegistry', () => {
  it('resolves an accepted class by name, and answers its name', () => {
    const registry = new ModelRegistry()
      .register('NothingEtl', NothingEtl)
      .register('Failing', PartialFailure);

    expect(registry.resolve('NothingEtl')).toBe(NothingEtl);
    expect(registry.nameOf(PartialFailure)).toBe('Failing');
    expect(registry.has('Failing')).toBe(true);
    expect(registry.names()).toEqual(['Failing', 'NothingEtl']);
  });

  it("throws UnknownModelClassError with Fossa's message for a class not accepted", () => {
    const registry = exampleModelRegistry();

    const resolving = () => registry.resolve('os_system');

    expect(resolving).toThrow(UnknownModelClassError);
    expect(resolving).toThrow("Model class 'os_system' is not in the list of accepted classes.");
    try {
      resolving();
    } catch (err) {
      expect(err).toMatchObject({ code: 'UNKNOWN_MODEL_CLASS', modelClass: 'os_system' });
    }
  });

  it('accepts the seven example models of Fossa’s integration tests and DatasetCopyEtl under their class names', () => {
    expect(exampleModelRegistry().names()).toEqual([
      'DatasetCopyEtl',
      'HalfSecondEtl',
      'LongRunningEtl',
      'NothingEtl',
      'PartialFailure',
      'PartitionedExampleEtl',
      'SecondTimeLucky',
      'StaggeredEtl',
    ]);
  });

  it('allows calling only the methods a class lists', () => {
    const registry = exampleModelRegistry();

    expect(registry.assertCallable('PartialFailure', 'do_something')).toBe(PartialFailure);
    expect(() => registry.assertCallable('PartialFailure', 'partition_slice')).toThrow(MethodNotAllowedError);
    expect(() => registry.assertCallable('NothingEtl', 'do_something')).toThrow(MethodNotAllowedError);
  });

  it('refuses a taken name, a class registered twice, a non-model and a bad name', () => {
    const registry = new ModelRegistry().register('NothingEtl', NothingEtl);

    expect(() => registry.register('NothingEtl', PartialFailure)).toThrow(
      /already exists as an accepted class/,
    );
    expect(() => registry.register('Alias', NothingEtl)).toThrow(/already accepted as NothingEtl/);
    expect(() => registry.register('Plain', class Plain {} as unknown as ModelClass)).toThrow(
      /not a Model subclass/,
    );
    expect(() => registry.register('has space', PartialFailure)).toThrow(ValidationError);
    expect(registry.names()).toEqual(['NothingEtl']);
  });

  it('refuses a class listing a method it lacks, or constructor', () => {
    class Typo extends Model {
      static override readonly methods = ['go', 'bulid'];
      override build(): void {}
    }
    class Sneaky extends Model {
      static override readonly methods = ['go', 'constructor'];
      override build(): void {}
    }

    expect(() => new ModelRegistry().register('Typo', Typo)).toThrow(
      /lists bulid in methods but has no such method/,
    );
    expect(() => new ModelRegistry().register('Sneaky', Sneaky)).toThrow(
      /"constructor" cannot be a callable method/,
    );
  });
});
