import { BackendError, ConditionFailedError, type Table, type TableKey } from '@spotjobs/core';
import { type BuildRecord, buildRecordSchema, type VersionedBuild } from './build-record.ts';

/** Hex digits of a build id: the active index is spread over one partition per digit. */
const SHARDS = [...'0123456789abcdef'];

/**
 * Table access for build records, and the *active index*: one small item per build that is
 * not concluded (`{ pk: 'active-builds#<first hex digit>', sk: <id> }`), so the reclaim cron
 * finds queued and building records without scanning every build ever made. The index is a
 * hint: it is written *before* a record becomes active (so a crash can leave an entry without
 * a live record, never the other way round) and removed after a record concludes; the
 * reclaimer drops stale entries.
 *
 * @example
 * ```ts
 * const repo = new BuildRepository(table);
 * const found = await repo.get(id, signal);
 * ```
 */
export class BuildRepository {
  readonly #table: Table;

  constructor(table: Table) {
    this.#table = table;
  }

  /** The record of build `id` with its version, or undefined. */
  async get(id: string, signal?: AbortSignal): Promise<VersionedBuild | undefined> {
    const item = await this.#table.get(stateKey(id), signal);
    if (!item) return undefined;
    const parsed = buildRecordSchema.safeParse(item.data);
    if (!parsed.success) {
      // A record this code cannot read must not be overwritten by a blind transition.
      throw new BackendError(`build record ${id} is malformed: ${parsed.error.message}`, false);
    }
    return { record: parsed.data, version: item.version };
  }

  /** Creates the record unless one exists; undefined when another writer got there first. */
  async create(record: BuildRecord, signal?: AbortSignal): Promise<VersionedBuild | undefined> {
    return this.#write(record, { ifAbsent: true }, signal);
  }

  /** Replaces the record read at `version`; undefined when it moved on meanwhile. */
  async update(
    record: BuildRecord,
    version: number,
    signal?: AbortSignal,
  ): Promise<VersionedBuild | undefined> {
    return this.#write(record, { ifVersion: version }, signal);
  }

  /** Adds `id` to the active index (idempotent). */
  async markActive(id: string, since: number, signal?: AbortSignal): Promise<void> {
    await this.#table.put(activeKey(id), { since }, undefined, signal);
  }

  /** Removes `id` from the active index (a missing entry is fine). */
  async markInactive(id: string, signal?: AbortSignal): Promise<void> {
    await this.#table.delete(activeKey(id), undefined, signal);
  }

  /** Every id in the active index, shard by shard, page by page. */
  async *activeIds(signal?: AbortSignal): AsyncGenerator<string> {
    for (const shard of SHARDS) {
      let cursor: string | undefined;
      do {
        const page = await this.#table.query(`active-builds#${shard}`, { limit: 100, cursor }, signal);
        for (const item of page.items) yield item.sk;
        cursor = page.cursor;
      } while (cursor);
    }
  }

  async #write(
    record: BuildRecord,
    condition: { ifAbsent: true } | { ifVersion: number },
    signal: AbortSignal | undefined,
  ): Promise<VersionedBuild | undefined> {
    try {
      const item = await this.#table.put(stateKey(record.id), record, condition, signal);
      return { record, version: item.version };
    } catch (err) {
      if (err instanceof ConditionFailedError) return undefined;
      throw err;
    }
  }
}

/** The Table key of build `id`'s state item. */
export function stateKey(id: string): TableKey {
  return { pk: `build#${id}`, sk: 'state' };
}

function activeKey(id: string): TableKey {
  return { pk: `active-builds#${id.slice(0, 1)}`, sk: id };
}
