import { describe, expect, it } from 'vitest';
import { runChecks, runnerRunningCheck } from '../src/observability/health-checks.ts';
import type { RunnerState } from '../src/runner/runner-events.ts';

describe('health checks', () => {
  it('passes the runner check only while RUNNING', async () => {
    const states: RunnerState[] = ['INITIALIZED', 'RUNNING', 'STOPPING', 'DRAINING', 'STOPPED', 'FAILED'];
    const verdicts = [];
    for (const state of states) {
      const check = runnerRunningCheck({ stats: () => ({ state, inFlight: 0, concurrency: 1 }) });
      verdicts.push(await check(new AbortController().signal));
    }
    expect(verdicts.map((v) => typeof v === 'object' && v.ok)).toEqual([
      false,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(verdicts[3]).toEqual({ ok: false, detail: 'DRAINING' });
  });

  it('maps booleans, verdicts and failures, and aborts checks still running when the server closes', async () => {
    const closing = new AbortController();
    let seen: AbortSignal | undefined;
    const pending = runChecks(
      {
        yes: () => true,
        no: async () => false,
        detailed: () => ({ ok: false, detail: 'queue unreachable' }),
        broken: () => {
          throw new TypeError('bug');
        },
        slow: (signal) => {
          seen = signal;
          return new Promise<boolean>(() => {});
        },
      },
      60_000,
      closing.signal,
    );
    await new Promise((r) => setImmediate(r));
    closing.abort();
    expect(await pending).toEqual({
      yes: { ok: true },
      no: { ok: false },
      detailed: { ok: false, detail: 'queue unreachable' },
      broken: { ok: false, detail: 'bug' },
      slow: { ok: false, detail: 'health server closing' },
    });
    expect(seen?.aborted).toBe(true);
    expect(await runChecks({}, 10, closing.signal)).toEqual({});
  });
});
