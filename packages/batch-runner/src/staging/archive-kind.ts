/** The archive formats staging unpacks; anything else is staged as a plain file. */
export type ArchiveKind = 'tar' | 'tar.gz' | 'zip';

const SUFFIXES: ReadonlyArray<readonly [string, ArchiveKind]> = [
  ['.tar.gz', 'tar.gz'],
  ['.tgz', 'tar.gz'],
  ['.tar', 'tar'],
  ['.zip', 'zip'],
];

/**
 * The archive kind a key names by its suffix (case-insensitive), and the name without it:
 * the folder the archive is unpacked into.
 *
 * @example
 * ```ts
 * archiveKindOf('deps/libs.tar.gz'); // { kind: 'tar.gz', stem: 'libs' }
 * archiveKindOf('input/run.sh');     // undefined
 * ```
 */
export function archiveKindOf(key: string): { kind: ArchiveKind; stem: string } | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const lower = name.toLowerCase();
  for (const [suffix, kind] of SUFFIXES) {
    if (lower.endsWith(suffix) && lower.length > suffix.length)
      return { kind, stem: name.slice(0, name.length - suffix.length) };
  }
  return undefined;
}
