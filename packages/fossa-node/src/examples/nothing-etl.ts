import { Model } from '../model/model.ts';

/**
 * Fossa's `NothingEtl`: a model that does nothing, for checking that a task runs to complete.
 *
 * @example
 * ```ts
 * await runModel(environment, { taskId: 'abcde', spec: { model_class: 'NothingEtl' } });
 * ```
 */
export class NothingEtl extends Model {
  override build(): void {}
}
