import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.ts';
import { CheckpointStore } from '../src/runner/checkpoint-store.ts';
import { MemoryBlobStore } from './support/memory-blob-store.ts';

function setup(queueName = 'builds') {
  const blobs = new MemoryBlobStore();
  const store = new CheckpointStore({ blobs, queueName, maxBytes: 1_024 });
  const save = (id: string, token: number, attempt: number, state: unknown) =>
    store.save(id, { token, attempt }, store.serialise(id, { token, attempt }, state, 1_000 * attempt));
  return { blobs, store, save };
}

describe('CheckpointStore', () => {
  it('keys checkpoints by queue and message id, one object per writer, in fencing order', () => {
    const { store } = setup('q.fifo');
    expect(store.keyOf('m/1', { token: 7, attempt: 3 })).toBe(
      'checkpoints/q.fifo/m%2F1/t000000000000007-a000000000000003.json',
    );
    expect(store.prefixOf('..')).toBe('checkpoints/q.fifo/%2E%2E/');
  });

  it('loads the newest by fencing order: a stale writer landing late never hides its successor', async () => {
    const { store, save } = setup();
    await save('m1', 3, 2, { row: 50 }); // the current owner (token 3)
    await save('m1', 1, 1, { row: 70 }); // a frozen former owner wakes and writes
    expect(await store.load('m1')).toEqual({ token: 3, attempt: 2, savedAt: 2_000, state: { row: 50 } });
    await save('m1', 3, 2, { row: 60 }); // the owner overwrites only its own object
    expect((await store.load('m1'))?.state).toEqual({ row: 60 });
    expect(await store.load('other')).toBeUndefined();
  });

  it('orders attempts when there are no claims (token 0)', async () => {
    const { store, save } = setup();
    await save('m1', 0, 10, { at: 10 });
    await save('m1', 0, 9, { at: 9 });
    expect((await store.load('m1'))?.state).toEqual({ at: 10 });
  });

  it('skips objects that are not checkpoints', async () => {
    const { blobs, store, save } = setup();
    await save('m1', 0, 1, { ok: true });
    await blobs.put(store.keyOf('m1', { token: 0, attempt: 2 }), 'not json');
    expect((await store.load('m1'))?.state).toEqual({ ok: true });
  });

  it('clears every checkpoint of a message and nothing else', async () => {
    const { blobs, store, save } = setup();
    await save('m1', 0, 1, 1);
    await save('m1', 0, 2, 2);
    await save('m2', 0, 1, 3);
    expect(await store.clear('m1')).toBe(2);
    expect([...blobs.objects.keys()]).toEqual([store.keyOf('m2', { token: 0, attempt: 1 })]);
  });

  it('validates states before any I/O', () => {
    const { store } = setup();
    const bad = (state: unknown) => () => store.serialise('m', { token: 0, attempt: 1 }, state, 0);
    expect(bad(undefined)).toThrow(ValidationError);
    expect(bad([1, undefined])).toThrow('state[1] is not a JSON value');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(bad(cyclic)).toThrow('state.self refers to itself');
    expect(bad('x'.repeat(2_000))).toThrow('more than 1024');
    expect(JSON.parse(store.serialise('m', { token: 2, attempt: 1 }, { a: [1, 'b', null] }, 5))).toEqual({
      format: 'spotjobs.checkpoint/1',
      messageId: 'm',
      token: 2,
      attempt: 1,
      savedAt: 5,
      state: { a: [1, 'b', null] },
    });
  });
});
