import { AbortedError, ValidationError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { Semaphore } from '../src/dispatch/semaphore.ts';

describe('Semaphore', () => {
  it('hands out at most size permits without waiting, then none', () => {
    const slots = new Semaphore(2);

    const a = slots.tryAcquire();
    const b = slots.tryAcquire();
    const c = slots.tryAcquire();

    expect([a?.held, b?.held, c]).toEqual([true, true, undefined]);
    expect(slots.available).toBe(0);
  });

  it('serves waiters first come first served, and a release is idempotent', async () => {
    const slots = new Semaphore(1);
    const first = slots.tryAcquire()!;
    const order: string[] = [];

    const second = slots.acquire().then((p) => {
      order.push('second');
      return p;
    });
    const third = slots.acquire().then((p) => {
      order.push('third');
      return p;
    });
    expect(slots.tryAcquire()).toBeUndefined(); // waiters go first
    first.release();
    first.release(); // no second unit from a double release
    const secondPermit = await second;
    expect(order).toEqual(['second']);
    secondPermit.release();
    (await third).release();

    expect(order).toEqual(['second', 'third']);
    expect(slots.available).toBe(1);
  });

  it('lets a permit be given back and taken again', async () => {
    const slots = new Semaphore(1);
    const parent = slots.tryAcquire()!;

    parent.release();
    const child = slots.tryAcquire()!;
    const back = parent.reacquire();
    expect(parent.held).toBe(false);
    child.release();
    await back;

    expect(parent.held).toBe(true);
    expect(slots.available).toBe(0);
    parent.release();
    expect(slots.available).toBe(1);
  });

  it('rejects a wait with AbortedError when its signal aborts, and drops it from the queue', async () => {
    const slots = new Semaphore(1);
    const held = slots.tryAcquire()!;
    const controller = new AbortController();

    const waiting = slots.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    held.release();

    expect(slots.waiting).toBe(0);
    expect(slots.available).toBe(1);
    await expect(slots.acquire(AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new Semaphore(0)).toThrow(ValidationError);
    expect(() => new Semaphore(1.5)).toThrow(ValidationError);
  });
});
