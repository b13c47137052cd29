import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.ts';
import { SignalInterruptionSource } from '../src/interruption/signal-interruption-source.ts';
import type { InterruptionNotice } from '../src/ports/interruption-source.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';

// process.emit runs the JS listeners only: no real signal is raised in the test worker.
const watches: AbortController[] = [];
afterEach(() => {
  for (const w of watches.splice(0)) w.abort();
});

function watch(source: SignalInterruptionSource) {
  const notices: InterruptionNotice[] = [];
  const controller = new AbortController();
  watches.push(controller);
  const watching = source.watch({
    notify: (n) => {
      notices.push(n);
    },
    onError: (e) => {
      throw e;
    },
    signal: controller.signal,
  });
  return { notices, controller, watching };
}

describe('SignalInterruptionSource', () => {
  it('turns SIGTERM into a terminate notice due stopTimeoutMs after it arrived', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const w = watch(new SignalInterruptionSource({ clock }));
    await clock.advance(5_000);
    process.emit('SIGTERM', 'SIGTERM');
    expect(w.notices).toEqual([
      { kind: 'terminate', at: Date.UTC(2026, 0, 1) + 5_000 + 30_000, source: 'signal' },
    ]);
  });

  it('reports one notice per watch however many signals come', () => {
    const clock = new ManualClock();
    const w = watch(
      new SignalInterruptionSource({ clock, signals: ['SIGTERM', 'SIGINT'], stopTimeoutMs: 120_000 }),
    );
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGTERM', 'SIGTERM');
    process.emit('SIGTERM', 'SIGTERM');
    expect(w.notices).toEqual([{ kind: 'terminate', at: clock.now() + 120_000, source: 'signal' }]);
  });

  it('removes its listeners when the watch is aborted', async () => {
    const before = process.listenerCount('SIGTERM');
    const w = watch(new SignalInterruptionSource({ signals: ['SIGTERM', 'SIGHUP'] }));
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    expect(process.listenerCount('SIGHUP')).toBe(1);
    w.controller.abort();
    await w.watching;
    expect(process.listenerCount('SIGTERM')).toBe(before);
    expect(process.listenerCount('SIGHUP')).toBe(0);
    process.emit('SIGHUP', 'SIGHUP');
    expect(w.notices).toEqual([]);
  });

  it('does not listen when the signal is already aborted', async () => {
    const before = process.listenerCount('SIGTERM');
    const source = new SignalInterruptionSource();
    await source.watch({ notify: () => {}, onError: () => {}, signal: AbortSignal.abort() });
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('validates its options', () => {
    for (const options of [
      { signals: [] },
      { signals: ['SIGKILL' as const] },
      { signals: ['SIGSTOP' as const] },
      { signals: ['TERM' as NodeJS.Signals] },
      { stopTimeoutMs: -1 },
      { stopTimeoutMs: 1.5 },
      { stopTimeoutMs: 3_600_001 },
    ])
      expect(() => new SignalInterruptionSource(options), JSON.stringify(options)).toThrow(ValidationError);
    expect(() => new SignalInterruptionSource({ stopTimeoutMs: 0 })).not.toThrow();
  });
});
