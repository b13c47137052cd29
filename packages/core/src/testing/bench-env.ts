/**
 * A benchmark knob from the environment: `name` as a whole number ≥ 1, or `fallback` when unset.
 * Throws naming the variable when it is anything else, so a typo never runs a silent default.
 *
 * @example
 * ```ts
 * const rounds = positiveIntFromEnv('SPOTJOBS_BENCH_ROUNDS', 5);
 * ```
 */
export function positiveIntFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a whole number >= 1, got ${raw}`);
  return value;
}
