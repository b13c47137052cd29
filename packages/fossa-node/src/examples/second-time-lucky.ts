import type { JsonObject } from '@spotjobs/core';
import { PartitionedModel, type SubtaskSlice } from '../model/partitioned-model.ts';

/** Python's `ValueError`, as Fossa's example raises it. */
export class ValueError extends Error {}

/**
 * Fossa's `SecondTimeLucky`: three subtasks `build_document({ doc_name })` that fail on their
 * first attempt and succeed on the retry, so the parent completes. Fossa told the attempts
 * apart by a file the first attempt left behind; here the attempt number comes from the
 * context (`context.attempt`), which works on any node and needs no shared storage. When the
 * resolver context has `output_datasets`, the successful attempt writes
 * `{output_datasets}/{doc_name}_results.csv`, as Fossa's does.
 *
 * @example
 * ```ts
 * const { result } = await runModel(environment, { taskId: 'abcde', spec: { model_class: 'SecondTimeLucky' } });
 * result.type; // 'TaskComplete'
 * ```
 */
export class SecondTimeLucky extends PartitionedModel {
  static override readonly methods = [...PartitionedModel.methods, 'build_document'];

  override build(): void {}

  override partition_slice(_partition_count: number): SubtaskSlice[] {
    return ['a', 'b', 'c'].map((doc_name) => ['build_document', { doc_name }] as const);
  }

  async build_document({ doc_name }: JsonObject): Promise<JsonObject> {
    const { attempt } = this.context;
    if (attempt < 2) throw new ValueError('Fake error');
    if (this.resolver.has('output_datasets')) {
      const doc = this.dataset(`{output_datasets}/${String(doc_name)}_results.csv`);
      await doc.write([{ name: 'hello_world' }]);
    }
    return { doc_name: doc_name ?? null, attempt };
  }
}
