import { readdirSync } from 'node:fs';
import { availableParallelism, type NetworkInterfaceInfo, networkInterfaces } from 'node:os';
import { RendezvousError } from '../run/runner-errors.ts';

/** What the node looks like to the others: its address and how many ranks it takes. */
export interface NodeIdentity {
  readonly address: string;
  readonly slots: number;
}

export interface NodeIdentitySources {
  /** `os.networkInterfaces()`, replaceable in tests. */
  readonly interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** Names in `/dev`, replaceable in tests. */
  readonly devices?: () => string[];
  readonly cpus?: () => number;
}

/**
 * The node's IPv4 address: `override` if given; else the first non-internal IPv4 address of
 * `interfaceName` (or of any interface, in the order the OS lists them). Under awsvpc each
 * Batch node has its own ENI, so this is the address the other nodes reach it at. Link-local
 * addresses (169.254.0.0/16: the task metadata endpoint's network) are never it.
 *
 * @example
 * ```ts
 * nodeAddress({ interfaceName: 'eth0' }); // '10.0.3.17'
 * ```
 */
export function nodeAddress(
  options: { override?: string | undefined; interfaceName?: string | undefined },
  sources: NodeIdentitySources = {},
): string {
  if (options.override) return options.override;
  const all = (sources.interfaces ?? networkInterfaces)();
  const names = options.interfaceName ? [options.interfaceName] : Object.keys(all);
  for (const name of names) {
    const found = (all[name] ?? []).find(
      (info) => info.family === 'IPv4' && !info.internal && !info.address.startsWith('169.254.'),
    );
    if (found) return found.address;
  }
  throw new RendezvousError(
    options.interfaceName
      ? `interface ${options.interfaceName} has no IPv4 address (set SPOTJOBS_NODE_ADDRESS or SPOTJOBS_NODE_INTERFACE)`
      : 'no routable IPv4 address on any interface (set SPOTJOBS_NODE_ADDRESS)',
  );
}

/**
 * Ranks this node takes: `override`; else one per GPU when `/dev/nvidia<N>` devices exist (as
 * SCAR counted them); else the CPUs Node may use.
 *
 * @example
 * ```ts
 * nodeSlots({}, { devices: () => ['nvidia0', 'nvidia1', 'nvidiactl'] }); // 2
 * ```
 */
export function nodeSlots(
  options: { override?: number | undefined },
  sources: NodeIdentitySources = {},
): number {
  if (options.override) return options.override;
  let devices: string[] = [];
  try {
    devices = (sources.devices ?? (() => readdirSync('/dev')))();
  } catch {
    // No /dev to read: count CPUs.
  }
  const gpus = devices.filter((name) => /^nvidia[0-9]+$/.test(name)).length;
  return gpus > 0 ? gpus : Math.max(1, (sources.cpus ?? availableParallelism)());
}
