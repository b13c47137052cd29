// Nodes in separate network namespaces (iproute2, veth pairs on a bridge), as awsvpc gives
// each Batch node its own interface and address: each node finds its address on its own eth0
// (no override), and the nodes meet over a real network.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MultiNodeJob, startMultiNodeJob } from './run-support/multinode-job.ts';
import { createNetnsCluster, type NetnsCluster, requireNetns } from './run-support/netns.ts';
import { killTestProcesses, RUNNER_MAIN } from './run-support/runner-process.ts';

let job: MultiNodeJob | undefined;
let cluster: NetnsCluster | undefined;
afterEach(async () => {
  if (job) {
    await killTestProcesses(job.mark);
    await job.cleanup();
  }
  await cluster?.destroy();
  job = undefined;
  cluster = undefined;
});

beforeAll(requireNetns);

describe('multi-node jobs across network namespaces', () => {
  it('meet over the network, with addresses read from each node eth0', async () => {
    cluster = await createNetnsCluster(4);
    const hosts = cluster;
    job = await startMultiNodeJob({
      nodes: 4,
      appExit: 5,
      address: (i) => hosts.addresses[i]!,
      // No SPOTJOBS_NODE_ADDRESS: each node reads its own interface.
      env: { SPOTJOBS_NODE_ADDRESS: '', SPOTJOBS_NODE_INTERFACE: 'eth0' },
      wrap: (i) => hosts.exec(i, process.execPath, [RUNNER_MAIN]),
    });
    const nodes = job.nodes.map((n) => n!);
    const exits = await Promise.all(nodes.map((n) => n.exited));
    expect(exits.map((e) => e.code)).toEqual([5, 5, 5, 5]);
    expect(nodes[0]!.stdout.trim().split('\n')).toEqual(hosts.addresses.map((a) => `${a} slots=2`));
    for (const child of nodes.slice(1)) {
      expect(child.logs()).toContainEqual(
        expect.objectContaining({ msg: 'the main node finished', exitCode: 5 }),
      );
    }
  }, 120_000);

  it('lets children give up on a main node that drops off the network without a word', async () => {
    cluster = await createNetnsCluster(3);
    const hosts = cluster;
    job = await startMultiNodeJob({
      nodes: 3,
      appSleep: 60,
      address: (i) => hosts.addresses[i]!,
      env: {
        SPOTJOBS_NODE_ADDRESS: '',
        SPOTJOBS_MAIN_GONE_SECONDS: '2',
        SPOTJOBS_DONE_POLL_SECONDS: '1',
      },
      wrap: (i) => hosts.exec(i, process.execPath, [RUNNER_MAIN]),
    });
    await job.nodes[0]!.waitForLog('starting the app');
    // Pull the main node's cable: no RST, no FIN, its packets simply stop.
    await hosts.ip(0, ['link', 'set', 'eth0', 'down']);
    const children = [job.nodes[1]!, job.nodes[2]!];
    const exits = await Promise.all(children.map((c) => c.exited));
    expect(exits.map((e) => e.code)).toEqual([69, 69]);
    for (const child of children) {
      expect(child.logs()).toContainEqual(
        expect.objectContaining({
          code: 'RENDEZVOUS',
          msg: expect.stringMatching(
            /unreachable for \d+ s \(timed out\): it stopped without telling this node$/,
          ),
        }),
      );
    }
  }, 120_000);
});
