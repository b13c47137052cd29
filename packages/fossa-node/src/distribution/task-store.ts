import type { Table, TableItem } from '@spotjobs/core';
import { ConditionFailedError } from '@spotjobs/core';
import {
  asJson,
  indexEntryOf,
  indexOfSortKey,
  type NodeHeartbeat,
  type SubtaskOutcomeRecord,
  type TaskIndexEntry,
  TaskKeys,
  type TaskRecord,
} from './task-records.ts';

/** What a parent's partition says about its subtasks. */
export interface ParentProgress {
  readonly outcomes: Map<number, SubtaskOutcomeRecord>;
  readonly sent: Set<number>;
}

/** Finished entries kept per listing partition (history is bounded). */
export const defaultHistoryLimit = 200;

/**
 * The node's records in the core `Table` (`task-records.ts` has the layout). Every write that
 * decides something is conditional: a task id is taken `ifAbsent`, a subtask outcome is
 * recorded `ifAbsent` (once, whoever ran it), and a parent's state is written `ifVersion` of
 * what its runner last wrote, so a node that lost the parent to another cannot overwrite it.
 *
 * @example
 * ```ts
 * const store = new TaskStore(table);
 * const item = await store.getTask('abcde', signal);
 * ```
 */
export class TaskStore {
  readonly table: Table;
  readonly #historyLimit: number;

  constructor(table: Table, options: { readonly historyLimit?: number } = {}) {
    this.table = table;
    this.#historyLimit = options.historyLimit ?? defaultHistoryLimit;
  }

  getTask(taskId: string, signal?: AbortSignal): Promise<TableItem<TaskRecord> | undefined> {
    return this.table.get<TaskRecord>(TaskKeys.state(taskId), signal);
  }

  /** Writes a record whatever is there (a subtask's holder reporting its progress). */
  putTask(record: TaskRecord, signal?: AbortSignal): Promise<TableItem<TaskRecord>> {
    return this.table.put(TaskKeys.state(record.task_id), record, undefined, signal);
  }

  /** Creates a task's record; undefined when the id is taken. */
  async createTask(record: TaskRecord, signal?: AbortSignal): Promise<TableItem<TaskRecord> | undefined> {
    try {
      return await this.table.put(TaskKeys.state(record.task_id), record, { ifAbsent: true }, signal);
    } catch (err) {
      if (err instanceof ConditionFailedError) return undefined;
      throw err;
    }
  }

  /** Writes a record if its version is still `version`; undefined when another writer moved it on. */
  async updateTask(
    record: TaskRecord,
    version: number,
    signal?: AbortSignal,
  ): Promise<TableItem<TaskRecord> | undefined> {
    try {
      return await this.table.put(TaskKeys.state(record.task_id), record, { ifVersion: version }, signal);
    } catch (err) {
      if (err instanceof ConditionFailedError) return undefined;
      throw err;
    }
  }

  /** Records a subtask's final outcome; false when one was already recorded (by any node). */
  async recordOutcome(
    parentId: string,
    outcome: SubtaskOutcomeRecord,
    signal?: AbortSignal,
  ): Promise<boolean> {
    try {
      await this.table.put(
        TaskKeys.outcome(parentId, outcome.index),
        asJson(outcome),
        { ifAbsent: true },
        signal,
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionFailedError) return false;
      throw err;
    }
  }

  async getOutcome(
    parentId: string,
    index: number,
    signal?: AbortSignal,
  ): Promise<SubtaskOutcomeRecord | undefined> {
    const item = await this.table.get(TaskKeys.outcome(parentId, index), signal);
    return item?.data as SubtaskOutcomeRecord | undefined;
  }

  /** Marks subtasks as sent, in one write (keyed by the first index of the batch). */
  async markSent(parentId: string, indexes: readonly number[], signal?: AbortSignal): Promise<void> {
    if (indexes.length === 0) return;
    await this.table.put(
      TaskKeys.sent(parentId, indexes[0] as number),
      { indexes: [...indexes] },
      undefined,
      signal,
    );
  }

  /** The outcomes recorded so far and the subtasks already sent, in one query of the parent's partition. */
  async parentProgress(parentId: string, signal?: AbortSignal): Promise<ParentProgress> {
    const outcomes = new Map<number, SubtaskOutcomeRecord>();
    const sent = new Set<number>();
    let cursor: string | undefined;
    do {
      const page = await this.table.query(TaskKeys.taskPartition(parentId), { limit: 1000, cursor }, signal);
      for (const item of page.items) {
        if (item.sk.startsWith(TaskKeys.outcomePrefix))
          outcomes.set(indexOfSortKey(item.sk), item.data as SubtaskOutcomeRecord);
        else if (item.sk.startsWith(TaskKeys.sentPrefix))
          for (const index of (item.data as { indexes: number[] }).indexes) sent.add(index);
      }
      cursor = page.cursor;
    } while (cursor);
    return { outcomes, sent };
  }

  /** Only the outcomes, from `sub#` on (cheaper than `parentProgress` while waiting). */
  async outcomes(parentId: string, signal?: AbortSignal): Promise<SubtaskOutcomeRecord[]> {
    const found: SubtaskOutcomeRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.table.query(
        TaskKeys.taskPartition(parentId),
        { prefix: TaskKeys.outcomePrefix, limit: 1000, cursor },
        signal,
      );
      for (const item of page.items) found.push(item.data as SubtaskOutcomeRecord);
      cursor = page.cursor;
    } while (cursor);
    return found;
  }

  async addActiveParent(taskId: string, signal?: AbortSignal): Promise<void> {
    await this.table.put(TaskKeys.activeParent(taskId), { task_id: taskId }, undefined, signal);
  }

  async removeActiveParent(taskId: string, signal?: AbortSignal): Promise<void> {
    await this.table.delete(TaskKeys.activeParent(taskId), undefined, signal);
  }

  async activeParents(signal?: AbortSignal): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.table.query(TaskKeys.activeParents, { limit: 1000, cursor }, signal);
      for (const item of page.items) ids.push(item.sk);
      cursor = page.cursor;
    } while (cursor);
    return ids;
  }

  /** Lists a task as running (globally and on its node). */
  async listRunning(record: TaskRecord, signal?: AbortSignal): Promise<void> {
    if (record.started === null) return;
    const entry = asJson(indexEntryOf(record));
    const sk = TaskKeys.listingSk(record.started, record.task_id);
    const writes = [this.table.put({ pk: TaskKeys.listing('running'), sk }, entry, undefined, signal)];
    if (record.node_id)
      writes.push(
        this.table.put({ pk: TaskKeys.listing('running', record.node_id), sk }, entry, undefined, signal),
      );
    await Promise.all(writes);
  }

  /** Lists `record` as running instead of `previous` (a parent taken over by another node). */
  async moveRunning(previous: TaskRecord, record: TaskRecord, signal?: AbortSignal): Promise<void> {
    await this.#unlistRunning(previous, signal);
    await this.listRunning(record, signal);
  }

  async #unlistRunning(listed: TaskRecord, signal?: AbortSignal): Promise<void> {
    if (listed.started === null) return;
    const sk = TaskKeys.listingSk(listed.started, listed.task_id);
    const deletes = [this.table.delete({ pk: TaskKeys.listing('running'), sk }, undefined, signal)];
    if (listed.node_id)
      deletes.push(
        this.table.delete({ pk: TaskKeys.listing('running', listed.node_id), sk }, undefined, signal),
      );
    await Promise.all(deletes);
  }

  /**
   * Moves a task from the running listings to the finished ones. `previous` is the record as
   * it was listed while running (its start time and node key the running entries).
   */
  async listFinished(
    record: TaskRecord,
    previous: TaskRecord | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const entry = asJson(indexEntryOf(record));
    const sk = TaskKeys.listingSk(record.finished ?? 0, record.task_id);
    const writes: Promise<unknown>[] = [
      this.table.put({ pk: TaskKeys.listing('finished'), sk }, entry, undefined, signal),
    ];
    if (record.node_id)
      writes.push(
        this.table.put({ pk: TaskKeys.listing('finished', record.node_id), sk }, entry, undefined, signal),
      );
    for (const listed of [previous, record]) if (listed) writes.push(this.#unlistRunning(listed, signal));
    await Promise.all(writes);
  }

  /** A page of a listing partition. */
  async listing(
    partition: string,
    options: { readonly limit: number; readonly cursor?: string; readonly reverse?: boolean },
    signal?: AbortSignal,
  ): Promise<{ entries: TaskIndexEntry[]; cursor?: string }> {
    const page = await this.table.query<TaskIndexEntry>(partition, options, signal);
    return { entries: page.items.map((item) => item.data), cursor: page.cursor };
  }

  /** Drops finished entries beyond the history limit (oldest first) from `partition`. */
  async pruneFinished(partition: string, signal?: AbortSignal): Promise<number> {
    const keep = this.#historyLimit;
    let seen = 0;
    let removed = 0;
    let cursor: string | undefined;
    do {
      const page = await this.table.query(partition, { limit: 1000, cursor, reverse: true }, signal);
      for (const item of page.items) {
        seen++;
        if (seen > keep) {
          await this.table.delete({ pk: item.pk, sk: item.sk }, undefined, signal);
          removed++;
        }
      }
      cursor = page.cursor;
    } while (cursor);
    return removed;
  }

  async heartbeat(beat: NodeHeartbeat, signal?: AbortSignal): Promise<void> {
    await this.table.put(TaskKeys.node(beat.node_id), asJson(beat), undefined, signal);
  }

  async heartbeats(signal?: AbortSignal): Promise<NodeHeartbeat[]> {
    const beats: NodeHeartbeat[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.table.query<NodeHeartbeat>(TaskKeys.nodes, { limit: 1000, cursor }, signal);
      beats.push(...page.items.map((item) => item.data));
      cursor = page.cursor;
    } while (cursor);
    return beats;
  }
}
