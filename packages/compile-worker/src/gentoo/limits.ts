/**
 * Length bounds the request path puts on Gentoo names. PMS sets no limit; these sit well above
 * anything in the Gentoo tree (the longest category is ~20 characters, package names stay under
 * 64, versions under 40, flags under 40) and keep queue messages and table keys small.
 *
 * @example
 * ```ts
 * if (name.length > GentooLimits.packageName) reject();
 * ```
 */
export const GentooLimits = {
  category: 64,
  packageName: 128,
  version: 64,
  useFlag: 64,
  /** Distinct flags after normalisation. */
  useFlags: 256,
  /** The raw USE text as received (before splitting). */
  useText: 4096,
} as const;
