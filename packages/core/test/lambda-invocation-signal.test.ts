import { afterEach, describe, expect, it, vi } from 'vitest';
import { invocationSignal } from '../src/lambda/invocation-signal.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('invocationSignal', () => {
  it('aborts the margin before the deadline the context reports', () => {
    const timeout = vi.spyOn(AbortSignal, 'timeout');
    invocationSignal({ getRemainingTimeInMillis: () => 3_050 }, 3_000);
    expect(timeout.mock.calls).toEqual([[50]]);
  });

  it("assumes Lambda's default timeout without a context, and never waits less than 1 ms", () => {
    const timeout = vi.spyOn(AbortSignal, 'timeout');
    invocationSignal(undefined, 500);
    invocationSignal({ getRemainingTimeInMillis: () => 200 }, 500);
    expect(timeout.mock.calls).toEqual([[29_500], [1]]);
  });
});
