// kill -9 in the middle of writes: a child process streams sends, table puts and blob puts,
// printing each id once its call resolved; we SIGKILL it mid-stream, reopen the data dir and
// check that everything acknowledged is there exactly once, that no partial blob is visible,
// and that messages it received but never acked come back after their visibility.
import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openLocalStore } from '../src/adapters/local/index.ts';
import type { Queue, QueueMessage } from '../src/ports/queue.ts';
import { readAll, sha256 } from '../src/testing/conformance-support.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { runFixture, tagged } from './fixtures/local-child.ts';
import { tempDataDir, tempStore } from './fixtures/local-temp-store.ts';

/** Receives until the queue is empty, with leases long enough that nothing is redelivered meanwhile. */
async function drainAll(queue: Queue): Promise<QueueMessage[]> {
  const all: QueueMessage[] = [];
  for (;;) {
    const batch = await queue.receive({ maxMessages: 10, visibilitySeconds: 43_200, waitSeconds: 0 });
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

describe('LocalStore after kill -9', () => {
  it('keeps every acknowledged write exactly once, shows no partial blob, and redelivers unacked leases', async () => {
    const dataDir = await tempDataDir();
    const suffix = randomUUID().slice(0, 8);
    const names = {
      inflight: `inflight-${suffix}`,
      send: `sent-${suffix}`,
      table: `t-${suffix}`,
      ns: `ns-${suffix}`,
    };
    const seed = await openLocalStore({ dataDir });
    const seeded = await seed
      .queue(names.inflight)
      .send(Array.from({ length: 20 }, (_, i) => ({ body: `pending ${i}` })));
    await seed.close();

    // Prepare: the child takes the 20 messages (acking half), then writes until we kill it.
    const writer = runFixture('local-crash-writer.ts', [
      dataDir,
      names.inflight,
      names.send,
      names.table,
      names.ns,
    ]);
    await writer.waitFor((lines) => tagged(lines, 'blob').length >= 25, 60_000);
    writer.child.kill('SIGKILL');
    const { signal } = await writer.exited;
    expect(signal, writer.stderr()).toBe('SIGKILL');
    const lines = [...writer.lines];

    // Reopen an hour later by the store clock, past every 300 s lease the child held.
    const store = await tempStore({ dataDir, clock: new ManualClock(Date.now() + 3_600_000) });

    // Sends: every printed id present exactly once (an unprinted one may exist: it resolved as we killed).
    const sent = tagged(lines, 'sent');
    const inQueue = (await drainAll(store.queue(names.send))).map((m) => m.id);
    expect(new Set(inQueue).size).toBe(inQueue.length);
    expect(inQueue.length - sent.length).toBeLessThanOrEqual(1);
    expect(inQueue).toEqual(expect.arrayContaining(sent));

    // Table puts: every printed item present, written once (version 1) with its data.
    const put = tagged(lines, 'put');
    const { items, cursor } = await store.table(names.table).query('crash', { limit: 1000 });
    expect(cursor).toBeUndefined();
    expect(items.length - put.length).toBeLessThanOrEqual(1);
    const bySk = new Map(items.map((item) => [item.sk, item]));
    for (const sk of put)
      expect(bySk.get(sk), sk).toMatchObject({ version: 1, data: { i: Number(sk.slice(5)) } });

    // Blobs: what the kill left half-written is garbage that sweep removes without touching live
    // data; then every printed key is present and every visible object whole (sha256 in its key).
    const blobs = store.blobs({ namespace: names.ns });
    await blobs.sweep({ olderThanMs: -1 });
    const written = tagged(lines, 'blob');
    const listed = (await blobs.list()).items.map((info) => info.key);
    expect(listed).toEqual(expect.arrayContaining([...written, 'latest']));
    expect(listed.length - written.length).toBeLessThanOrEqual(2);
    for (const key of listed.filter((k) => k !== 'latest')) {
      const object = await blobs.get(key);
      const body = await readAll(object.body);
      expect(sha256(body), key).toBe(key.split('-')[1]);
      expect(object.info.size, key).toBe(body.length);
      expect(object.info.etag, key).toBe(createHash('md5').update(body).digest('hex'));
    }
    // The key overwritten in a loop holds one version, whole: its bytes match the sha256 it was put with.
    const latest = await blobs.get('latest');
    expect(sha256(await readAll(latest.body))).toBe(latest.info.metadata.sha256);

    // In-flight messages: acked ones never return; received-but-unacked ones are back, redelivered.
    const received = tagged(lines, 'received');
    const acked = tagged(lines, 'acked');
    const back = await drainAll(store.queue(names.inflight));
    expect(received.sort()).toEqual([...seeded].sort());
    expect(acked).toHaveLength(10);
    expect(back.map((m) => m.id).sort()).toEqual(received.filter((id) => !acked.includes(id)).sort());
    expect(back.every((m) => m.receiveCount === 2)).toBe(true);
  });
});
