// A BuildService on a fresh embedded store per test (temp data dir, removed afterwards), with
// an injected clock, plus helpers to read what reached the queue.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendError, type Clock, type Queue, type QueueMessage, type Table } from '@spotjobs/core';
import { type LocalStore, openLocalStore } from '@spotjobs/core/local';
import { onTestFinished } from 'vitest';
import type { BuildPolicy } from '../../src/build/build-policy.ts';
import { BuildService } from '../../src/build/build-service.ts';
import type { BuilderProfile } from '../../src/build/builder-profile.ts';

export const testProfile: BuilderProfile = {
  imageDigest: `sha256:${'ab'.repeat(32)}`,
  arch: 'amd64',
  makeConfProfile: 'pacloud-2018',
};

/** A new temp dir, deleted after the current test. */
export async function tempDir(prefix = 'spotjobs-compile-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An embedded store in a temp dir, closed after the current test. */
export async function tempStore(clock?: Clock): Promise<LocalStore> {
  const store = await openLocalStore({ dataDir: await tempDir(), ...(clock ? { clock } : {}) });
  onTestFinished(() => store.close());
  return store;
}

export interface LocalBuilds {
  readonly store: LocalStore;
  readonly builds: BuildService;
  readonly queue: Queue;
  readonly table: Table;
}

/** A BuildService on its own queue and table in a fresh store. `wrapQueue` may inject faults. */
export async function localBuilds(
  options: { clock?: Clock; policy?: Partial<BuildPolicy>; wrapQueue?: (queue: Queue) => Queue } = {},
): Promise<LocalBuilds> {
  const store = await tempStore(options.clock);
  const suffix = randomUUID().slice(0, 8);
  const raw = store.queue(`compile-${suffix}`);
  const queue = options.wrapQueue ? options.wrapQueue(raw) : raw;
  const table = store.table(`builds-${suffix}`);
  const builds = new BuildService({
    table,
    queue,
    profile: testProfile,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.policy ? { policy: options.policy } : {}),
  });
  return { store, builds, queue, table };
}

/** Takes every visible message off `queue` (acking them), in arrival order. */
export async function drain(queue: Queue): Promise<QueueMessage[]> {
  const all: QueueMessage[] = [];
  for (;;) {
    const batch = await queue.receive({ maxMessages: 10, visibilitySeconds: 300, waitSeconds: 0 });
    if (batch.length === 0) return all;
    all.push(...batch);
    await queue.ack(batch.map((m) => m.lease));
  }
}

/** Counts of a queue wrapped by `failingSends`. */
export interface SendCounter {
  sends: number;
}

/**
 * A queue whose `send` fails the next `failures` times with a retryable `BackendError` (an SQS
 * outage, or a process that died before its send); `counter.sends` counts every attempt.
 */
export function failingSends(failures: number, counter: SendCounter = { sends: 0 }): (queue: Queue) => Queue {
  return (queue) => {
    let left = failures;
    const send: Queue['send'] = async (messages, signal) => {
      counter.sends++;
      if (left-- > 0) throw new BackendError('send failed (injected)', true);
      return queue.send(messages, signal);
    };
    // A proxy, not a prototype copy: adapters keep their state in private fields, which only
    // the real instance can read.
    return new Proxy(queue, {
      get(target, prop) {
        if (prop === 'send') return send;
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
}
