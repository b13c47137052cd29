import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `ip` from iproute2; tests that need namespaces fail (never skip) without it or without root. */
export async function requireNetns(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the network-namespace tests need root (ip netns add)');
  try {
    await run('ip', ['-V']);
  } catch (err) {
    throw new Error('the network-namespace tests need iproute2 (Debian: apt-get install iproute2)', {
      cause: err,
    });
  }
}

/** Hosts in their own network namespaces on one bridge, like awsvpc nodes on one subnet. */
export interface NetnsCluster {
  /** Namespace of host i. */
  readonly namespaces: readonly string[];
  /** Address of host i on its eth0. */
  readonly addresses: readonly string[];
  /** The command prefix that runs a program in host i's namespace. */
  exec(index: number, program: string, args: readonly string[]): { command: string; args: string[] };
  /** Runs `ip` inside host i's namespace (e.g. to pull its cable). */
  ip(index: number, args: readonly string[]): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * Makes `count` namespaces, each with an `eth0` (a veth whose other end is on a bridge in a
 * namespace of its own) and an address in a /24 picked at random from 10.213.0.0/16: nothing
 * of it is visible from, or routed to, the host's own network.
 */
export async function createNetnsCluster(count: number): Promise<NetnsCluster> {
  const id = randomBytes(3).toString('hex');
  const subnet = `10.213.${randomBytes(1)[0]! % 250}`;
  const bridge = `sjb-${id}`;
  const namespaces = Array.from({ length: count }, (_, i) => `sjn-${id}-${i}`);
  const addresses = namespaces.map((_, i) => `${subnet}.${i + 1}`);
  const made: string[] = [];
  const ip = (args: string[]) => run('ip', args);
  const destroy = async () => {
    for (const ns of made.reverse()) await ip(['netns', 'del', ns]).catch(() => undefined);
  };
  try {
    await ip(['netns', 'add', bridge]);
    made.push(bridge);
    await ip(['-n', bridge, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', bridge, 'link', 'set', 'br0', 'up']);
    for (const [i, ns] of namespaces.entries()) {
      await ip(['netns', 'add', ns]);
      made.push(ns);
      const port = `vb${i}`;
      await ip(['link', 'add', port, 'netns', bridge, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await ip(['-n', bridge, 'link', 'set', port, 'master', 'br0']);
      await ip(['-n', bridge, 'link', 'set', port, 'up']);
      await ip(['-n', ns, 'addr', 'add', `${addresses[i]}/24`, 'dev', 'eth0']);
      await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    namespaces,
    addresses,
    exec: (index, program, args) => ({
      command: 'ip',
      args: ['netns', 'exec', namespaces[index]!, program, ...args],
    }),
    ip: async (index, args) => {
      await ip(['-n', namespaces[index]!, ...args]);
    },
    destroy,
  };
}
