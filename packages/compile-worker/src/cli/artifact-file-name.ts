// Binary package extensions Portage writes (xpak `.tbz2`/`.xpak`, GPKG `.gpkg.tar`), longest first.
const FORMATS = ['gpkg.tar', 'tbz2', 'xpak'] as const;

/**
 * The name a downloaded artifact is saved under: Portage's own `<package>-<version>.<ext>` (as in
 * `PKGDIR/<category>/`, and as the Pacloud client saved it), not the blob key's
 * `<uuid>-<cat>@<pn>-<ver>` object name. The extension is read from the link's last path segment
 * (the blob key ends in it); a link that names none is taken as `.tbz2`, Pacloud's format.
 * `build` comes from a validated build view, so package and version fit the Gentoo grammar and the
 * name can hold no `/`.
 *
 * @example
 * ```ts
 * artifactFileName({ package: 'ranger', version: '1.8.1' }, 'https://b.s3.amazonaws.com/packages/0b7c-app-misc%40ranger-1.8.1.gpkg.tar?X-Amz-Signature=…');
 * // 'ranger-1.8.1.gpkg.tar'
 * ```
 */
export function artifactFileName(
  build: { readonly package: string; readonly version: string },
  url: string,
): string {
  let last = '';
  try {
    last = decodeURIComponent(new URL(url).pathname.split('/').at(-1) ?? '');
  } catch {
    // An undecodable segment names no format: the default applies.
  }
  const format = FORMATS.find((f) => last.endsWith(`.${f}`)) ?? 'tbz2';
  return `${build.package}-${build.version}.${format}`;
}
