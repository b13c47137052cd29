import { afterEach, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../src/errors.ts';
import { ResumeDetector, type ResumeDetectorOptions } from '../src/interruption/resume-detector.ts';
import type { Clock } from '../src/ports/clock.ts';
import type { InterruptionNotice } from '../src/ports/interruption-source.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';

/** A manual clock whose next sleep overruns by `overrun` ms, as a process frozen by SIGSTOP sees it. */
class LateClock implements Clock {
  readonly inner = new ManualClock(Date.UTC(2026, 0, 1));
  overrun = 0;
  now = () => this.inner.now();
  monotonic = () => this.inner.monotonic();
  setTimer = (ms: number, fn: () => void) => this.inner.setTimer(ms, fn);
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const extra = this.overrun;
    this.overrun = 0;
    return this.inner.sleep(ms + extra, signal);
  }
}

const watches: AbortController[] = [];
afterEach(() => {
  for (const w of watches.splice(0)) w.abort();
});

function start(options: Omit<ResumeDetectorOptions, 'clock'> = {}) {
  const clock = new LateClock();
  const detector = new ResumeDetector({
    markerFile: false,
    intervalMs: 1_000,
    jumpThresholdMs: 5_000,
    ...options,
    clock,
  });
  const notices: InterruptionNotice[] = [];
  const errors: Error[] = [];
  const controller = new AbortController();
  watches.push(controller);
  const watching = detector.watch({
    notify: (n) => {
      notices.push(n);
    },
    onError: (e) => errors.push(e),
    signal: controller.signal,
  });
  const sleeping = () => vi.waitFor(() => expect(clock.inner.pendingTimers).toBe(1), { interval: 1 });
  return { clock, manual: clock.inner, notices, errors, controller, watching, sleeping };
}

describe('ResumeDetector (manual clock)', () => {
  it('reports a resume when the wall clock moved further than the monotonic clock (a suspended host)', async () => {
    const t = start();
    await t.sleeping();
    await t.manual.advance(3_000);
    expect(t.notices).toEqual([]);

    t.manual.jumpWallClock(600_000); // ten minutes hibernated: CLOCK_MONOTONIC did not count them
    await t.manual.advance(1_000);
    expect(t.notices).toEqual([
      { kind: 'resume', at: t.manual.now(), awayMs: 600_000, source: 'resume-detector' },
    ]);
  });

  it('reports a resume when a check runs far later than it was due (a process frozen by SIGSTOP)', async () => {
    const t = start();
    await t.sleeping();
    t.clock.overrun = 90_000; // the next wait overruns: both clocks ran on, the process did not
    await t.manual.advance(1_000);
    expect(t.notices).toEqual([]);
    await t.manual.advance(91_000);
    expect(t.notices).toEqual([
      { kind: 'resume', at: t.manual.now(), awayMs: 90_000, source: 'resume-detector' },
    ]);
  });

  it('ignores drift below the threshold, and jumps backwards', async () => {
    const t = start({ jumpThresholdMs: 5_000 });
    await t.sleeping();
    t.manual.jumpWallClock(4_999);
    await t.manual.advance(1_000);
    t.clock.overrun = 4_000;
    await t.manual.advance(1_000);
    await t.manual.advance(5_000); // that check ran 4 s late
    t.manual.jumpWallClock(-3_600_000);
    await t.manual.advance(1_000);
    expect(t.notices).toEqual([]);
  });

  it('folds observations within jumpThresholdMs of a reported resume into it', async () => {
    const t = start({ jumpThresholdMs: 5_000 });
    await t.sleeping();
    t.manual.jumpWallClock(60_000);
    await t.manual.advance(1_000);
    t.manual.jumpWallClock(60_000); // seen again 1 s later: the same wake-up
    await t.manual.advance(1_000);
    expect(t.notices).toHaveLength(1);

    await t.manual.advance(10_000);
    t.manual.jumpWallClock(60_000); // a later, separate sleep
    await t.manual.advance(1_000);
    expect(t.notices.map((n) => (n.kind === 'resume' ? n.awayMs : undefined))).toEqual([60_000, 60_000]);
  });

  it('stops on abort and leaves no timer behind', async () => {
    const t = start();
    await t.sleeping();
    t.controller.abort();
    await t.watching;
    expect(t.manual.pendingTimers).toBe(0);
  });

  it('validates its options', () => {
    for (const options of [
      { intervalMs: 9 },
      { intervalMs: 60_001 },
      { jumpThresholdMs: 0 },
      { jumpThresholdMs: 2.5 },
      { markerFile: '' },
    ])
      expect(() => new ResumeDetector(options), JSON.stringify(options)).toThrow(ValidationError);
    expect(() => new ResumeDetector()).not.toThrow();
    expect(() => new ResumeDetector({ markerFile: false, intervalMs: 10, jumpThresholdMs: 1 })).not.toThrow();
  });
});
