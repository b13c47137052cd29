import { Model } from '../model/model.ts';
import { numberKwarg } from './example-kwargs.ts';

/**
 * Fossa's `LongRunningEtl`: takes ages and does nothing, for seeing a task as running (and
 * stopping one). 60 loops of 10 s by default, each logged; `loops` and `loop_seconds` in
 * `model_construction_kwargs` change that. Every wait ends at once when the task is aborted.
 *
 * @example
 * ```ts
 * await runModel(environment, { taskId: 'abcde', spec: { model_class: 'LongRunningEtl' }, signal });
 * ```
 */
export class LongRunningEtl extends Model {
  override async build(): Promise<void> {
    const loops = numberKwarg(this.kwargs, 'loops', 60, { min: 1, max: 100_000, integer: true });
    const seconds = numberKwarg(this.kwargs, 'loop_seconds', 10, { min: 0, max: 3600 });
    for (let i = 0; i < loops; i++) {
      this.log(`Loop ${i} of ${loops}`);
      await this.context.clock.sleep(seconds * 1000, this.signal);
    }
  }
}
