// A FossaNode in the test process on a local store (node:sqlite + files in a temp dir): the
// queue and the Table as the embedded default has them, started, and torn down in one call.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@spotjobs/core';
import { type LocalStore, openLocalStore } from '@spotjobs/core/local';
import { FossaNode, type FossaNodeOptions } from '../../src/node/fossa-node.ts';

export interface LocalNode {
  readonly node: FossaNode;
  /** The store holding the node's queue (`fossa_task_queue`) and Table (`fossa`). */
  readonly store: LocalStore;
  /** Stops the node, waits for its run to end, closes the store and removes its files. */
  stop(): Promise<void>;
}

/**
 * Creates and starts a node; `address` is the one its heartbeat reports. Silent unless
 * `options.logger` says otherwise.
 */
export async function startLocalNode(
  options: Omit<FossaNodeOptions, 'queue' | 'table'> & { address?: string },
): Promise<LocalNode> {
  const { address, ...nodeOptions } = options;
  const dataDir = await mkdtemp(join(tmpdir(), 'fossa-node-'));
  const store = await openLocalStore({ dataDir });
  const node = await FossaNode.create({
    logger: silentLogger,
    ...nodeOptions,
    queue: store.queue('fossa_task_queue'),
    table: store.table('fossa'),
  });
  if (address !== undefined) node.address = address;
  const running = node.start();
  return {
    node,
    store,
    async stop() {
      await node.stop();
      await running;
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
