import { Model } from '../model/model.ts';

/**
 * Fossa's `HalfSecondEtl`: logs, waits half a second, logs again. Just long enough to fill a
 * node's slots in the capacity test.
 *
 * @example
 * ```ts
 * await runModel(environment, { taskId: 'abcde', spec: { model_class: 'HalfSecondEtl' } });
 * ```
 */
export class HalfSecondEtl extends Model {
  override async build(): Promise<void> {
    this.log('Running HalfSecondEtl...');
    await this.context.clock.sleep(500, this.signal);
    this.log('Finishing HalfSecondEtl...');
  }
}
