import type { NodeIdentity } from './node-identity.ts';

/**
 * The MPI hostfile: one `<ip> slots=<n>` line per node, the main node first, then the others
 * in node order, each address once (a node that registered twice, or two nodes reporting the
 * same address, would otherwise get twice the ranks).
 *
 * @example
 * ```ts
 * formatHostfile({ address: '10.0.0.5', slots: 4 }, [{ address: '10.0.0.7', slots: 4 }, { address: '10.0.0.6', slots: 4 }]);
 * // '10.0.0.5 slots=4\n10.0.0.7 slots=4\n10.0.0.6 slots=4\n'
 * ```
 */
export function formatHostfile(main: NodeIdentity, children: readonly NodeIdentity[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const node of [main, ...children]) {
    if (seen.has(node.address)) continue;
    seen.add(node.address);
    lines.push(`${node.address} slots=${node.slots}`);
  }
  return `${lines.join('\n')}\n`;
}
