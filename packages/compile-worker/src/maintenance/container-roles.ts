import { BuildLabels } from '../executor/container-build-executor.ts';

/**
 * The `spotjobs.role` label values of the containers this product creates: a build, the PKGDIR
 * probe, and the Portage tree sync. The stale-container prune removes only containers that carry
 * one of these (plus any labels it is given), so it never touches anything else on the engine.
 *
 * @example
 * ```ts
 * docker.listContainers({ all: true, filters: { label: [`${BuildLabels.role}=${CompileContainerRoles.sync}`] } });
 * ```
 */
export const CompileContainerRoles = {
  build: 'compile-build',
  pkgdir: 'compile-pkgdir',
  sync: 'compile-sync',
} as const;

export type CompileContainerRole = (typeof CompileContainerRoles)[keyof typeof CompileContainerRoles];

const ROLES: ReadonlySet<string> = new Set(Object.values(CompileContainerRoles));

/** The role of a container from its labels, when it is one of this product's. */
export function compileRoleOf(
  labels: Readonly<Record<string, string>> | undefined,
): CompileContainerRole | undefined {
  const role = labels?.[BuildLabels.role];
  return role !== undefined && ROLES.has(role) ? (role as CompileContainerRole) : undefined;
}
