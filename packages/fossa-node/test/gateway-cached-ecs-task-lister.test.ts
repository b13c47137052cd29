import { AbortedError, ValidationError } from '@spotjobs/core';
import { ManualClock } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import { CachedEcsTaskLister } from '../src/gateway/cached-ecs-task-lister.ts';
import type { EcsTaskLister } from '../src/gateway/ecs-task-lister.ts';
import type { EcsTaskView } from '../src/web/read-model.ts';

function task(id: string): EcsTaskView {
  return {
    taskArn: id,
    lastStatus: 'RUNNING',
    group: null,
    startedAt: null,
    privateIpv4Address: null,
    capacityProviderName: null,
  };
}

/** A lister whose calls are answered by the test. */
function controlledLister() {
  const pending: { resolve: (tasks: EcsTaskView[]) => void; reject: (err: Error) => void }[] = [];
  const lister: EcsTaskLister = {
    list: () => new Promise((resolve, reject) => pending.push({ resolve, reject })),
  };
  return { lister, pending };
}

const signal = new AbortController().signal;

describe('CachedEcsTaskLister', () => {
  it('shares one call between concurrent views and keeps the answer for ttlMs', async () => {
    const clock = new ManualClock();
    const { lister, pending } = controlledLister();
    const cached = new CachedEcsTaskLister(lister, { ttlMs: 5_000, clock });
    const first = cached.list(signal);
    const second = cached.list(signal);
    expect(pending).toHaveLength(1);
    pending[0]?.resolve([task('a')]);
    expect(await first).toEqual([task('a')]);
    expect(await second).toEqual([task('a')]);
    await clock.advance(4_999);
    expect(await cached.list(signal)).toEqual([task('a')]);
    expect(pending).toHaveLength(1);
    await clock.advance(1);
    const refreshed = cached.list(signal);
    expect(pending).toHaveLength(2);
    pending[1]?.resolve([task('b')]);
    expect(await refreshed).toEqual([task('b')]);
  });

  it('does not keep a failure: the next view calls again', async () => {
    const { lister, pending } = controlledLister();
    const cached = new CachedEcsTaskLister(lister, { clock: new ManualClock() });
    const failing = cached.list(signal);
    pending[0]?.reject(new Error('throttled'));
    await expect(failing).rejects.toThrow('throttled');
    const retry = cached.list(signal);
    expect(pending).toHaveLength(2);
    pending[1]?.resolve([]);
    expect(await retry).toEqual([]);
  });

  it('a viewer that leaves stops waiting without failing the others', async () => {
    const { lister, pending } = controlledLister();
    const cached = new CachedEcsTaskLister(lister, { clock: new ManualClock() });
    const leaving = new AbortController();
    const left = cached.list(leaving.signal);
    const staying = cached.list(signal);
    leaving.abort();
    await expect(left).rejects.toBeInstanceOf(AbortedError);
    pending[0]?.resolve([task('c')]);
    expect(await staying).toEqual([task('c')]);
    await expect(cached.list(AbortSignal.abort())).resolves.toEqual([task('c')]); // cached: no wait to abort
  });

  it('refuses a negative ttl', () => {
    expect(() => new CachedEcsTaskLister(controlledLister().lister, { ttlMs: -1 })).toThrow(ValidationError);
  });
});
