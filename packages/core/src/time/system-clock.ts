import { setTimeout as delay } from 'node:timers/promises';
import { AbortedError } from '../errors.ts';
import type { Clock, Timer } from '../ports/clock.ts';

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  async sleep(ms, signal) {
    try {
      await delay(ms, undefined, { signal });
    } catch (err) {
      throw new AbortedError({ cause: signal?.reason ?? err });
    }
  },
  setTimer(ms, fn): Timer {
    const handle = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(handle) };
  },
};
