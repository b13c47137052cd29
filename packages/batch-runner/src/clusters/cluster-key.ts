/**
 * The af-user key convention: a user drops `home/<uid>/<NAME>.cf-create` (or `.cf-delete`)
 * and finds the answer beside it (`.cf-created`, `.cf-deleted`, `.cf-failed`).
 *
 * Ownership: the user id is the key's folder under `home/`. It is trusted because the user
 * bucket's policy lets each IAM user write only under `home/${aws:username}/` (af-user's
 * `AFS3UserAccess`), so whoever could write `home/alice/...` is alice. The event's
 * `principalId` is a unique id (`AIDA...`), not a user name, and is only logged.
 */
export const ClusterSuffix = {
  create: '.cf-create',
  delete: '.cf-delete',
  created: '.cf-created',
  deleted: '.cf-deleted',
  failed: '.cf-failed',
} as const;

export type ClusterAction = 'create' | 'delete';

/** A request key taken apart, before its names are checked. */
export interface ClusterRequestKey {
  readonly action: ClusterAction;
  readonly key: string;
  /** The key without its suffix: answers are `base + '.cf-created'` and so on, beside the request. */
  readonly base: string;
  /** The first folder under the home prefix: the requester's user id (not yet checked). */
  readonly uid: string;
  /** Folders between the user's folder and the file; should be none. */
  readonly extraFolders: readonly string[];
  /** The file name without the suffix: the cluster name (not yet checked). */
  readonly name: string;
}

/**
 * Takes a (decoded, safe) key apart if it is a request of `action` under `homePrefix`, or
 * answers undefined. The key must have a user folder: `home/x.cf-create` has no one to answer.
 *
 * @example
 * ```ts
 * parseClusterKey('home/alice/demo.cf-create', 'home/', 'create');
 * // { action: 'create', key, base: 'home/alice/demo', uid: 'alice', extraFolders: [], name: 'demo' }
 * ```
 */
export function parseClusterKey(
  key: string,
  homePrefix: string,
  action: ClusterAction,
): ClusterRequestKey | undefined {
  const suffix = ClusterSuffix[action];
  if (!key.startsWith(homePrefix) || !key.endsWith(suffix)) return undefined;
  const base = key.slice(0, -suffix.length);
  const parts = base.slice(homePrefix.length).split('/');
  if (parts.length < 2) return undefined;
  const uid = parts[0] ?? '';
  const name = parts.at(-1) ?? '';
  return { action, key, base, uid, extraFolders: parts.slice(1, -1), name };
}

// User ids become part of stack names, which allow only A-Z a-z 0-9 -; a double hyphen is
// the separator between the prefix, the user id and the cluster name, so neither may hold one.
const UID = /^[A-Za-z0-9](?:-?[A-Za-z0-9])*$/;
const NAME = /^[A-Za-z](?:-?[A-Za-z0-9])*$/;
const UID_MAX = 64;
const NAME_MAX = 40;
/** CloudFormation's limit on stack names. */
export const STACK_NAME_MAX = 128;

/** Whether `uid` is a user id clusters accept (and may be put into addresses and stack names). */
export function isClusterUid(uid: string): boolean {
  return uid.length <= UID_MAX && UID.test(uid);
}

/**
 * Why this user id or cluster name cannot be used, as sentences for the `.cf-failed` answer.
 *
 * - user id: 1–64 of A-Z a-z 0-9 and single inner hyphens (IAM names with `.`, `_`, `@`, `+`,
 *   `=` or `,` cannot become stack names and are refused);
 * - name: a letter, then A-Z a-z 0-9 and single inner hyphens, at most 40 (af-user's rule,
 *   with CloudFormation's letter first);
 * - the request must sit directly in the user's folder.
 *
 * @example
 * ```ts
 * clusterKeyProblems(parseClusterKey('home/alice/9lives.cf-create', 'home/', 'create')!, 'af');
 * // ['cluster name "9lives" must start with a letter ...']
 * ```
 */
export function clusterKeyProblems(request: ClusterRequestKey, stackPrefix: string): string[] {
  const problems: string[] = [];
  if (request.extraFolders.length > 0)
    problems.push(`requests must sit directly in your folder, not in ${request.extraFolders.join('/')}/`);
  if (!isClusterUid(request.uid))
    problems.push(
      `user id ${JSON.stringify(request.uid)} must be 1-${UID_MAX} letters, digits and single inner hyphens`,
    );
  if (request.name.length > NAME_MAX || !NAME.test(request.name))
    problems.push(
      `cluster name ${JSON.stringify(request.name)} must start with a letter and have at most ${NAME_MAX} letters, digits and single inner hyphens`,
    );
  if (problems.length === 0 && stackNameFor(stackPrefix, request.uid, request.name).length > STACK_NAME_MAX)
    problems.push(`user id and cluster name together are too long for a stack name (${STACK_NAME_MAX})`);
  return problems;
}

/**
 * The stack a user's cluster lives in: `<prefix>--<uid>--<name>`. Namespaced by user id, so
 * two users' clusters of one name never collide and a request can only ever address stacks
 * in its own user's namespace; `--` cannot occur inside either part, so the name is unambiguous.
 *
 * @example
 * ```ts
 * stackNameFor('af', 'alice', 'demo'); // 'af--alice--demo'
 * ```
 */
export function stackNameFor(stackPrefix: string, uid: string, name: string): string {
  return `${stackPrefix}--${uid}--${name}`;
}

/** Whether `prefix` can start stack names: a letter, then letters and digits, at most 16. */
export function stackPrefixProblem(prefix: string): string | undefined {
  return /^[A-Za-z][A-Za-z0-9]{0,15}$/.test(prefix)
    ? undefined
    : 'must be a letter followed by at most 15 letters or digits';
}
