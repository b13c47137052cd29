/**
 * What a Lambda handler serves, composed on first use: `target` itself, or a factory called on
 * the first invocation whose result later invocations reuse (configuration and clients are
 * built once per container). A factory that fails is tried again on the next call, so one bad
 * start does not poison the container.
 *
 * @example
 * ```ts
 * const api = composeOnce(() => composeApiFromConfig());
 * export const handler = async (event: unknown) => (await api()).handle(event);
 * ```
 */
export function composeOnce<T extends object>(target: T | (() => T | Promise<T>)): () => Promise<T> {
  if (typeof target !== 'function') return () => Promise.resolve(target);
  const factory = target as () => T | Promise<T>;
  let composed: Promise<T> | undefined;
  return () => {
    composed ??= Promise.resolve()
      .then(factory)
      .catch((err: unknown) => {
        composed = undefined;
        throw err;
      });
    return composed;
  };
}
