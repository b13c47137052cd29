import { randomUUID } from 'node:crypto';
import type { PackageVersion } from '../gentoo/atom.ts';

/** Extensions of Portage binary packages: classic xpak `.tbz2`, and GPKG (Portage ≥ 3.0.31). */
export type BinaryPackageFormat = 'tbz2' | 'gpkg.tar';

/**
 * Where a build's artifact goes in the build BlobStore: `packages/<uuid>-<cat>@<pn>-<ver>.<ext>`,
 * Pacloud's object name under a `packages/` prefix. The random uuid makes every upload a new
 * object, so a late writer from a superseded attempt can never overwrite the artifact a ready
 * record points to.
 *
 * @example
 * ```ts
 * artifactBlobKey({ category: 'app-misc', name: 'ranger', version: '1.8.1' }, 'tbz2');
 * // 'packages/0b7c...-app-misc@ranger-1.8.1.tbz2'
 * ```
 */
export function artifactBlobKey(
  pv: PackageVersion,
  format: BinaryPackageFormat,
  uuid: string = randomUUID(),
): string {
  return `packages/${uuid}-${pv.category}@${pv.name}-${pv.version}.${format}`;
}

/**
 * Where the log of one attempt goes: `logs/<build id>/g<generation>-a<attempt>.log`.
 *
 * @example
 * ```ts
 * buildLogBlobKey({ buildId, generation: 1 }, 2); // 'logs/<id>/g1-a2.log'
 * ```
 */
export function buildLogBlobKey(
  ref: { readonly buildId: string; readonly generation: number },
  attempt: number,
): string {
  return `logs/${ref.buildId}/g${ref.generation}-a${attempt}.log`;
}
