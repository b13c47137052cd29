import { describe, expect, it } from 'vitest';
import { type BackoffPolicy, backoffSeconds, defaultBackoff } from '../src/runner/backoff.ts';

describe('backoffSeconds', () => {
  const none: BackoffPolicy = { ...defaultBackoff, jitter: 'none' };

  it('grows exponentially from the initial delay up to the ceiling', () => {
    expect([1, 2, 3, 4, 5, 8, 9, 30].map((attempt) => backoffSeconds(attempt, none, Math.random))).toEqual([
      5, 10, 20, 40, 80, 640, 900, 900,
    ]);
  });

  it('equal jitter stays within [delay / 2, delay]', () => {
    expect(backoffSeconds(3, defaultBackoff, () => 0)).toBe(10);
    expect(backoffSeconds(3, defaultBackoff, () => 0.5)).toBe(15);
    expect(backoffSeconds(3, defaultBackoff, () => 0.999_999)).toBe(20);
  });

  it('full jitter stays within [0, delay]', () => {
    const full: BackoffPolicy = { ...defaultBackoff, jitter: 'full' };
    expect(backoffSeconds(2, full, () => 0)).toBe(0);
    expect(backoffSeconds(2, full, () => 0.5)).toBe(5);
    expect(backoffSeconds(2, full, () => 1)).toBe(10);
  });

  it('answers whole seconds and honours custom policies', () => {
    const policy: BackoffPolicy = { initialSeconds: 1.5, maxSeconds: 60, multiplier: 3, jitter: 'none' };
    expect([1, 2, 3, 4, 5].map((attempt) => backoffSeconds(attempt, policy, Math.random))).toEqual([
      2, 5, 14, 41, 60,
    ]);
  });

  it('spreads retries of many jobs failing together', () => {
    const delays = new Set(
      Array.from({ length: 200 }, (_, i) => backoffSeconds(5, defaultBackoff, () => i / 200)),
    );
    expect(delays.size).toBeGreaterThan(30);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(40);
    expect(Math.max(...delays)).toBeLessThanOrEqual(80);
  });
});
