/** The part of a Lambda invocation context that tells how long the invocation may still run. */
export interface LambdaDeadlineContext {
  getRemainingTimeInMillis?(): number;
}

/** Lambda's own default timeout, assumed when the context does not say. */
const DEFAULT_REMAINING_MS = 30_000;

/**
 * A signal that aborts `marginMs` before the Lambda invocation's deadline, so the work stops
 * (releasing what it holds, answering) before Lambda kills it. Without a context (a local call)
 * the deadline is Lambda's default timeout; the signal never fires sooner than after 1 ms.
 *
 * @example
 * ```ts
 * export const handler = async (event: unknown, context?: LambdaDeadlineContext) =>
 *   work(event, invocationSignal(context, 3_000));
 * ```
 */
export function invocationSignal(context: LambdaDeadlineContext | undefined, marginMs: number): AbortSignal {
  const remaining = context?.getRemainingTimeInMillis?.() ?? DEFAULT_REMAINING_MS;
  return AbortSignal.timeout(Math.max(1, remaining - marginMs));
}
