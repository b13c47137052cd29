import { describe, expect, it } from 'vitest';
import { ManualInterruptionSource } from '../src/interruption/manual-interruption-source.ts';
import type { InterruptionNotice } from '../src/ports/interruption-source.ts';

const notice: InterruptionNotice = { kind: 'terminate', at: Date.UTC(2026, 0, 1), source: 'manual' };

describe('ManualInterruptionSource', () => {
  it('hands each emitted notice to every active watcher, and resolves once they acted on it', async () => {
    const source = new ManualInterruptionSource();
    const seen: string[] = [];
    const a = new AbortController();
    const b = new AbortController();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const watchingA = source.watch({
      notify: () => void seen.push('a'),
      onError: () => {},
      signal: a.signal,
    });
    void source.watch({
      notify: async () => {
        await gate;
        seen.push('b done');
      },
      onError: () => {},
      signal: b.signal,
    });
    await source.watched();
    expect(source.watchers).toBe(2);

    const emitted = source.emit(notice);
    await Promise.resolve();
    expect(seen).toEqual(['a']);
    release();
    expect(await emitted).toBe(2);
    expect(seen).toEqual(['a', 'b done']);

    a.abort();
    await watchingA;
    expect(source.watchers).toBe(1);
    expect(await source.emit(notice)).toBe(1);
    b.abort();
  });

  it('sends a rejecting notify and fail() to onError', async () => {
    const source = new ManualInterruptionSource();
    const errors: string[] = [];
    const controller = new AbortController();
    void source.watch({
      notify: () => Promise.reject(new Error('policy failed')),
      onError: (e) => errors.push(e.message),
      signal: controller.signal,
    });
    expect(await source.emit(notice)).toBe(0);
    source.fail(new Error('IMDS unreachable'));
    expect(errors).toEqual(['policy failed', 'IMDS unreachable']);
    controller.abort();
  });

  it('resolves watched() when the first watch begins', async () => {
    const source = new ManualInterruptionSource();
    const watched = source.watched();
    const controller = new AbortController();
    void source.watch({ notify: () => {}, onError: () => {}, signal: controller.signal });
    await expect(watched).resolves.toBeUndefined();
    controller.abort();
  });
});
