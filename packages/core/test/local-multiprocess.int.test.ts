// Several processes on one data dir: a child's sends reach this process's long poll (through
// the poll interval, since in-process wake-ups cannot cross processes), and two processes
// consuming one queue never both get the same delivery.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import type { QueueMessage } from '../src/ports/queue.ts';
import { runFixture, tagged } from './fixtures/local-child.ts';
import { tempDataDir, tempStore } from './fixtures/local-temp-store.ts';

describe('LocalStore shared by several processes', () => {
  it('a child process sends, this process receives every message exactly once', async () => {
    const dataDir = await tempDataDir();
    const store = await tempStore({ dataDir });
    const name = `shared-${randomUUID().slice(0, 8)}`;
    const queue = store.queue(name);
    const delivered: QueueMessage[] = [];
    const stop = new AbortController();
    const consuming = queue.consume({
      visibilitySeconds: 300,
      waitSeconds: 20,
      capacity: async () => 10,
      deliver: (messages) => {
        delivered.push(...messages);
        void queue.ack(messages.map((m) => m.lease));
      },
      onError: (error) => {
        throw error;
      },
      signal: stop.signal,
    });

    const sender = runFixture('local-sender.ts', [dataDir, name, '60']);
    const { code } = await sender.exited;
    expect(code, sender.stderr()).toBe(0);
    const sent = tagged(sender.lines, 'sent');

    await vi.waitFor(() => expect(delivered.length).toBeGreaterThanOrEqual(sent.length), { timeout: 30_000 });
    stop.abort();
    await consuming;
    expect(sent).toHaveLength(60);
    expect(delivered.map((m) => m.id).sort()).toEqual([...sent].sort());
    expect(delivered.every((m) => m.receiveCount === 1)).toBe(true);
  });

  it('two processes consuming one queue split it without a double delivery', async () => {
    const dataDir = await tempDataDir();
    const store = await tempStore({ dataDir });
    const name = `split-${randomUUID().slice(0, 8)}`;
    const queue = store.queue(name);
    const ids = await queue.send(Array.from({ length: 500 }, (_, i) => ({ body: `m${i}` })));
    const mine: string[] = [];
    const stop = new AbortController();
    // Both sides take 5 messages per 10 ms, so they compete for about a second.
    const child = runFixture('local-consumer.ts', [dataDir, name, '10']);
    await child.waitFor((lines) => lines.includes('ready'));

    const consuming = queue.consume({
      visibilitySeconds: 300,
      waitSeconds: 1,
      capacity: async () => {
        await sleep(10);
        return 5;
      },
      deliver: (messages) => {
        mine.push(...messages.map((m) => m.id));
        void queue.ack(messages.map((m) => m.lease));
      },
      onError: (error) => {
        throw error;
      },
      signal: stop.signal,
    });
    await vi.waitFor(() => expect(mine.length + tagged(child.lines, 'got').length).toBe(ids.length), {
      timeout: 30_000,
    });
    stop.abort();
    child.child.stdin!.end();
    const [{ code }] = await Promise.all([child.exited, consuming]);

    expect(code, child.stderr()).toBe(0);
    const theirs = tagged(child.lines, 'got');
    expect(theirs.length).toBeGreaterThan(0);
    expect(mine.length).toBeGreaterThan(0);
    expect([...mine, ...theirs].sort()).toEqual([...ids].sort());
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });
});
