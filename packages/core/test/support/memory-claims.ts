import { ClaimStore } from '../../src/claims/claim-store.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { ManualClock } from '../../src/testing/manual-clock.ts';
import { MemoryTable } from './memory-table.ts';

/**
 * A `ClaimStore` on an in-memory table, for runner unit tests. Its clock is bound later
 * (`bind(h.clock)`), since the harness makes its clock after the job definitions.
 */
export function memoryClaimStore(partition = 'builds') {
  const table = new MemoryTable();
  let bound: ManualClock | undefined;
  const at = (): ManualClock => {
    if (!bound) throw new Error('bind(clock) first');
    return bound;
  };
  const clock: Clock = {
    now: () => at().now(),
    monotonic: () => at().monotonic(),
    sleep: (ms, signal) => at().sleep(ms, signal),
    setTimer: (ms, fn) => at().setTimer(ms, fn),
  };
  const store = new ClaimStore({ table, clock, partition });
  return {
    table,
    store,
    bind: (c: ManualClock) => {
      bound = c;
    },
    item: (key: string) => table.items.get(`${partition}/${key}`),
    /** Another worker takes the claim over (a new token), as after this one froze past its TTL. */
    takeOver: (key: string) => {
      const current = table.items.get(`${partition}/${key}`);
      if (!current) throw new Error(`no claim ${key}`);
      table.items.set(`${partition}/${key}`, {
        version: current.version + 1,
        data: { ...current.data, owner: 'taker', token: current.version + 1 },
      });
    },
  };
}
