import { describe, expect, it } from 'vitest';
import { composeOnce } from '../src/lambda/compose-once.ts';

describe('composeOnce', () => {
  it('serves a ready target as it is', async () => {
    const target = { name: `target-${Math.random()}` };
    const get = composeOnce(target);
    expect(await get()).toBe(target);
  });

  it('calls the factory once for concurrent and later calls', async () => {
    let calls = 0;
    const get = composeOnce(async () => {
      calls++;
      return { calls };
    });
    const [a, b] = await Promise.all([get(), get()]);
    expect(a).toBe(b);
    expect(await get()).toBe(a);
    expect(calls).toBe(1);
  });

  it('tries a failed factory again on the next call', async () => {
    let calls = 0;
    const get = composeOnce(() => {
      calls++;
      if (calls === 1) throw new Error('bad configuration');
      return { calls };
    });
    await expect(get()).rejects.toThrow('bad configuration');
    expect(await get()).toEqual({ calls: 2 });
    expect(await get()).toEqual({ calls: 2 });
  });
});
