import type { JsonObject } from '@spotjobs/core';
import { ValidationError } from '@spotjobs/core';
import { Model } from '../model/model.ts';

/**
 * Copies the records of dataset `input` to dataset `output` (both from
 * `model_construction_kwargs`, any URI the node's datasets accept, `{names}` resolved from the
 * resolver context), counting them in the `rows` statistic: the smallest model that reads and
 * writes datasets, for checking a node's S3 buckets and local root.
 *
 * @example
 * ```ts
 * await runModel(environment, {
 *   taskId: 'abcde',
 *   spec: {
 *     model_class: 'DatasetCopyEtl',
 *     model_construction_kwargs: { input: 's3://lake/in.ndjson.gz', output: 's3://lake/out.ndjson' },
 *   },
 * });
 * ```
 */
export class DatasetCopyEtl extends Model {
  override async build(): Promise<void> {
    const input = this.dataset(uriKwarg(this.kwargs, 'input'));
    const output = this.dataset(uriKwarg(this.kwargs, 'output'));
    const stats = this.stats;
    async function* counted() {
      for await (const record of input) {
        stats.count('rows');
        yield record;
      }
    }
    await output.write(counted(), this.signal);
  }
}

function uriKwarg(kwargs: JsonObject, name: string): string {
  const value = kwargs[name];
  if (typeof value !== 'string' || value.trim() === '')
    throw new ValidationError(`invalid ${name}`, [`${name} must be a dataset URI (a non-empty string)`]);
  return value;
}
