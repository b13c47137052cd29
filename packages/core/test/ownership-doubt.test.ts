import { describe, expect, it } from 'vitest';
import { OwnershipDoubt } from '../src/runner/ownership-doubt.ts';

/** Resolves to the answer, or 'waiting' if `p` has not settled after pending microtasks ran. */
async function peek<T>(p: Promise<T>): Promise<T | 'waiting'> {
  return Promise.race([p, new Promise<'waiting'>((resolve) => setImmediate(() => resolve('waiting')))]);
}

describe('OwnershipDoubt', () => {
  it('is cleared only by a confirmation numbered after the doubt arose, which answers gates true', async () => {
    const doubt = new OwnershipDoubt();
    doubt.raise(4);
    doubt.raise(6); // an older doubt stands: a call numbered 5 still clears it
    const gate = doubt.wait();
    doubt.confirmedBy(3); // sent before the freeze: proves nothing
    doubt.confirmedBy(4);
    expect(doubt.pending).toBe(true);
    expect(await peek(gate)).toBe('waiting');
    doubt.confirmedBy(5);
    expect(doubt.pending).toBe(false);
    expect(await gate).toBe(true);
  });

  it('answers gates false on fail and keeps the doubt; an aborted gate answers false alone', async () => {
    const doubt = new OwnershipDoubt();
    doubt.raise(1);
    const controller = new AbortController();
    const aborted = doubt.wait(controller.signal);
    const failed = doubt.wait();
    controller.abort();
    expect(await aborted).toBe(false);
    expect(await peek(failed)).toBe('waiting');
    doubt.fail();
    expect(await failed).toBe(false);
    expect(doubt.pending).toBe(true);
    expect(await doubt.wait(AbortSignal.abort())).toBe(false);
  });
});
