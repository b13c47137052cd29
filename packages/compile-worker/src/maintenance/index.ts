// The build daemon's maintenance, each a function for a cron task: refresh the Portage tree,
// prune stale containers, old builder images and the binpkg cache.
export {
  type BinpkgCacheReport,
  type PruneBinpkgCacheOptions,
  pruneBinpkgCache,
} from './binpkg-cache-prune.ts';
export { type CompileContainerRole, CompileContainerRoles, compileRoleOf } from './container-roles.ts';
export { repositoryOf } from './image-reference.ts';
export {
  type ImagePruneReport,
  type PruneImagesOptions,
  pruneImages,
  type RemovedImage,
} from './images-prune.ts';
export {
  type RefreshPortageTreeOptions,
  refreshPortageTree,
  type TreeRefreshReport,
} from './portage-tree-refresh.ts';
export {
  type PruneStaleContainersOptions,
  pruneStaleContainers,
  type RemovedContainer,
  type StaleContainersReport,
} from './stale-containers-prune.ts';
export { type LiveTree, TreeCopyError, TreeGenerations } from './tree-generations.ts';
export type { TreeSyncLogLine } from './tree-sync-container.ts';
