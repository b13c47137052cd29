/**
 * The repository of an image reference as the engine lists it in `RepoTags` / `RepoDigests`:
 * tag and digest dropped, Docker Hub's implied parts removed (`docker.io/library/busybox:1` ->
 * `busybox`, `docker.io/gentoo/stage3:latest` -> `gentoo/stage3`). `undefined` for an image id
 * (`sha256:<hex>` or bare hex), which names no repository.
 *
 * @example
 * ```ts
 * repositoryOf('docker.io/gentoo/stage3:latest'); // 'gentoo/stage3'
 * repositoryOf('registry.local:5000/team/builder@sha256:ab…'); // 'registry.local:5000/team/builder'
 * ```
 */
export function repositoryOf(ref: string): string | undefined {
  if (/^(?:sha256:)?[0-9a-f]{12,64}$/.test(ref)) return undefined;
  let name = ref;
  const at = name.indexOf('@');
  if (at !== -1) name = name.slice(0, at);
  const colon = name.lastIndexOf(':');
  // A colon after the last slash is a tag; before it, a registry port.
  if (colon > name.lastIndexOf('/')) name = name.slice(0, colon);
  // As Docker reads a name: a first part with a dot or a port, or `localhost`, is a registry;
  // without one, the registry is Docker Hub, whose official images live under `library/`.
  const first = name.slice(0, Math.max(name.indexOf('/'), 0));
  const registry = first.includes('.') || first.includes(':') || first === 'localhost';
  const hub = !registry || first === 'docker.io' || first === 'index.docker.io';
  if (hub) name = (registry ? name.slice(first.length + 1) : name).replace(/^library\/(?=[^/]+$)/, '');
  return name.length > 0 && name !== '<none>' ? name : undefined;
}
