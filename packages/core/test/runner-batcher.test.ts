import { describe, expect, it } from 'vitest';
import { Batcher } from '../src/runner/batcher.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';

function setup(lingerMs = 5) {
  const clock = new ManualClock();
  const sent: number[][] = [];
  let fail: Error | undefined;
  const batcher = new Batcher<number, string>({
    maxSize: 10,
    lingerMs,
    clock,
    send: async (entries) => {
      sent.push(entries);
      if (fail) throw fail;
      return entries.map((n) => `ok ${n}`);
    },
  });
  return { clock, sent, batcher, failWith: (error: Error) => (fail = error) };
}

describe('Batcher', () => {
  it('sends a full batch at once and the rest after the linger', async () => {
    const { clock, sent, batcher } = setup();
    const results = Array.from({ length: 23 }, (_, i) => batcher.add(i));
    await clock.advance(0);
    expect(sent.map((b) => b.length)).toEqual([10, 10]);
    expect(batcher.pending).toBe(3);
    await clock.advance(4);
    expect(sent.map((b) => b.length)).toEqual([10, 10]);
    await clock.advance(1);
    expect(sent.map((b) => b.length)).toEqual([10, 10, 3]);
    expect(await Promise.all(results)).toEqual(Array.from({ length: 23 }, (_, i) => `ok ${i}`));
  });

  it('flush() and drain() send everything now', async () => {
    const { sent, batcher } = setup(60_000);
    const results = [batcher.add(1), batcher.add(2)];
    await batcher.drain();
    expect(sent).toEqual([[1, 2]]);
    expect(await Promise.all(results)).toEqual(['ok 1', 'ok 2']);
  });

  it('after hurry(), entries added in one turn share a call without any timer', async () => {
    const { clock, sent, batcher } = setup(60_000);
    batcher.hurry();
    const results = [batcher.add(1), batcher.add(2), batcher.add(3)];
    await Promise.all(results);
    expect(sent).toEqual([[1, 2, 3]]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects every entry of a batch whose call failed', async () => {
    const { batcher, failWith } = setup(0);
    failWith(new Error('throttled'));
    const results = [batcher.add(1), batcher.add(2)];
    batcher.flush();
    await expect(results[0]).rejects.toThrow('throttled');
    await expect(results[1]).rejects.toThrow('throttled');
  });
});
