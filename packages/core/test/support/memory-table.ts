import { ConditionFailedError } from '../../src/errors.ts';
import type { JsonObject, Table, TableItem, TableKey, WriteCondition } from '../../src/ports/table.ts';

/**
 * An in-memory `Table` with the port's version semantics, for `ClaimStore` and runner unit
 * tests with claims. Each call yields one microtask first, so concurrent callers interleave
 * between their reads and writes, and `ManualClock.advance` still lets them finish.
 * `failWrites` makes writes reject (a backend outage).
 */
export class MemoryTable implements Table {
  readonly items = new Map<string, { version: number; data: JsonObject }>();
  writes = 0;
  failWrites: Error | undefined;

  async get<T extends JsonObject>(key: TableKey): Promise<TableItem<T> | undefined> {
    await Promise.resolve();
    const stored = this.items.get(id(key));
    return stored && { ...key, version: stored.version, data: structuredClone(stored.data) as T };
  }

  async put<T extends JsonObject>(key: TableKey, data: T, condition?: WriteCondition): Promise<TableItem<T>> {
    await Promise.resolve();
    if (this.failWrites) throw this.failWrites;
    const stored = this.items.get(id(key));
    if (condition && 'ifAbsent' in condition && stored) throw new ConditionFailedError(id(key));
    if (condition && 'ifVersion' in condition && stored?.version !== condition.ifVersion) {
      throw new ConditionFailedError(id(key));
    }
    const version = (stored?.version ?? 0) + 1;
    this.items.set(id(key), { version, data: structuredClone(data) });
    this.writes++;
    return { ...key, version, data };
  }

  async delete(key: TableKey): Promise<void> {
    this.items.delete(id(key));
  }

  async query(): Promise<never> {
    throw new Error('not used by ClaimStore');
  }
}

const id = (key: TableKey) => `${key.pk}/${key.sk}`;
