// The Node.js runtime shipped in the host tarball (bin/node): the one running the packaging,
// which is the project's pinned Node 24 (scripts/bootstrap.sh). Shipping a runtime keeps the
// hosts off whatever Node their distribution has (Ubuntu 24.04 ships 18, too old for the
// daemon), and the tested one is the one deployed.
import { readFile, realpath } from 'node:fs/promises';

/** The runtime the bundles target and the hosts run. */
export const RUNTIME_NODE_MAJOR = 24;

/** The platform of the hosts (the compile farm's launch template: x86_64 Ubuntu). */
export const RUNTIME_PLATFORM = { platform: 'linux', arch: 'x64' } as const;

/** What is known about the Node doing the packaging. */
export interface RunningNode {
  readonly execPath: string;
  readonly version: string;
  readonly platform: string;
  readonly arch: string;
}

/**
 * Why this Node cannot be shipped to the hosts, or undefined when it can.
 *
 * @example
 * ```ts
 * unshippableNodeReason({ execPath: '/usr/bin/node', version: 'v22.1.0', platform: 'linux', arch: 'x64' });
 * // 'the host package ships the Node.js running the packaging, which must be Node 24 on linux-x64; this is v22.1.0 on linux-x64 (…)'
 * ```
 */
export function unshippableNodeReason(node: RunningNode): string | undefined {
  const major = Number(/^v(\d+)\./.exec(node.version)?.[1]);
  if (
    major === RUNTIME_NODE_MAJOR &&
    node.platform === RUNTIME_PLATFORM.platform &&
    node.arch === RUNTIME_PLATFORM.arch
  )
    return undefined;
  return (
    `the host package ships the Node.js running the packaging, which must be Node ${RUNTIME_NODE_MAJOR} on ` +
    `${RUNTIME_PLATFORM.platform}-${RUNTIME_PLATFORM.arch}; this is ${node.version} on ${node.platform}-${node.arch} ` +
    `(${node.execPath}). Run the packaging with the project's Node (. scripts/bootstrap.sh) on a linux-x64 machine`
  );
}

/**
 * Reads the running Node's binary, after checking that it can run on the hosts.
 *
 * @example
 * ```ts
 * const { bytes, version } = await readShippableNode(signal);
 * ```
 */
export async function readShippableNode(signal: AbortSignal): Promise<{ bytes: Buffer; version: string }> {
  const node: RunningNode = {
    execPath: process.execPath,
    version: process.version,
    platform: process.platform,
    arch: process.arch,
  };
  const reason = unshippableNodeReason(node);
  if (reason) throw new Error(reason);
  return { bytes: await readFile(await realpath(node.execPath), { signal }), version: node.version };
}
