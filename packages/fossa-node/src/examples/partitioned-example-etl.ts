import { createHash, type Hash } from 'node:crypto';
import type { JsonObject, JsonValue } from '@spotjobs/core';
import { PartitionedModel, type SubtaskSlice } from '../model/partitioned-model.ts';
import { numberKwarg } from './example-kwargs.ts';

const MD5_CHARACTERS = '0123456789abcdef';
const BLOCK = 64; // MD5's block size in bytes

/**
 * The length of the shortest string of `ch` repeated (from the empty string up) whose MD5 hex
 * digest starts with `count` times `ch`: Fossa's `crypto_challenge`, a small proof of work.
 * MD5 absorbs whole 64-byte blocks, so the state after the full blocks is kept and copied for
 * each length instead of hashing every string from the start.
 *
 * @example
 * ```ts
 * cryptoChallenge('a', 3); // 27: md5('a' × 27) starts with 'aaa'
 * ```
 */
export function cryptoChallenge(ch: string, count: number, signal?: AbortSignal): number {
  if (ch.length !== 1 || !MD5_CHARACTERS.includes(ch))
    throw new RangeError(`${JSON.stringify(ch)} is not an md5 hex character`);
  const target = ch.repeat(count);
  const block = ch.repeat(BLOCK);
  let blocks: Hash = createHash('md5');
  for (let length = 0; ; length++) {
    if (length > 0 && length % BLOCK === 0) blocks = blocks.update(block);
    if (length % 65_536 === 0) signal?.throwIfAborted();
    const digest = blocks
      .copy()
      .update(ch.repeat(length % BLOCK))
      .digest('hex');
    if (digest.startsWith(target)) return length;
  }
}

/**
 * Fossa's `PartitionedExampleEtl`: 16 subtasks, one per MD5 hex character, each solving
 * `crypto_challenge` at the model's complexity (4 by default, as in Fossa; set `complexity`,
 * 1–6, in `model_construction_kwargs`). Each subtask answers `[ch, length]`; the parent logs
 * every result.
 *
 * @example
 * ```ts
 * await runModel(environment, { taskId: 'abcde', spec: { model_class: 'PartitionedExampleEtl', model_construction_kwargs: { complexity: 2 } } });
 * ```
 */
export class PartitionedExampleEtl extends PartitionedModel {
  static override readonly methods = [...PartitionedModel.methods, 'crypto_challenge'];

  complexity = 4;

  override build(): void {
    this.complexity = numberKwarg(this.kwargs, 'complexity', 4, { min: 1, max: 6, integer: true });
  }

  override partition_slice(_partition_count: number): SubtaskSlice[] {
    return [...MD5_CHARACTERS].map((ch) => ['crypto_challenge', { ch, count: this.complexity }] as const);
  }

  override partition_subtask_complete(
    _method: string,
    subtask_kwargs: JsonObject,
    subtask_return_value: JsonValue,
  ): void {
    this.log(
      `Subtask results are: ${JSON.stringify(subtask_kwargs)}, ${JSON.stringify(subtask_return_value)}`,
    );
  }

  crypto_challenge({ ch, count }: JsonObject): [string, number] {
    const checkedCount = numberKwarg({ count: count ?? null }, 'count', 4, { min: 1, max: 6, integer: true });
    return [ch as string, cryptoChallenge(ch as string, checkedCount, this.signal)];
  }
}
