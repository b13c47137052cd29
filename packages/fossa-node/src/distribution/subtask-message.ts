import { z } from 'zod';
import { PartitionLimits } from '../model/partitioned-model.ts';

/**
 * A subtask on the queue: which parent and position it belongs to, and its task spec (Fossa's
 * subtask message body). The spec is checked by `runModel`, not here, so a spec this node
 * cannot run (an unknown class, a bad field) is recorded as the subtask's failure instead of
 * being dead-lettered unseen while its parent waits.
 *
 * @example
 * ```ts
 * const body: SubtaskMessage = { task_id: 'abcde:3', parent_task_id: 'abcde', index: 3, spec };
 * await queue.send([{ body: JSON.stringify(body) }]);
 * ```
 */
export const subtaskMessageSchema = z.object({
  task_id: z.string().min(1).max(512),
  parent_task_id: z.string().min(1).max(512),
  index: z.number().int().min(0).max(PartitionLimits.maxSubtasks),
  spec: z.unknown(),
});

export type SubtaskMessage = z.infer<typeof subtaskMessageSchema>;
