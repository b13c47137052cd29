import { firstForbidden, quoteValue } from './grammar-text.ts';
import { GentooLimits } from './limits.ts';

const FLAG_CHAR = /[A-Za-z0-9+_@-]/;
const FLAG_START = /^[A-Za-z0-9]/;
// Only ASCII whitespace separates flags: a no-break space or another Unicode space stays inside
// a token and is refused, instead of silently splitting differently from Portage's shell.
const SEPARATORS = /[ \t\r\n]+/;

/**
 * A USE selection after normalisation: every flag named once, its last setting kept (`-name`
 * when disabled), sorted by flag name in code-unit order. Two requests that mean the same
 * USE produce the same `flags`, whatever their order, duplicates or spacing.
 *
 * @example
 * ```ts
 * normaliseUse('gtk -doc  X gtk'); // { ok: true, flags: ['X', '-doc', 'gtk'], text: 'X -doc gtk' }
 * ```
 */
export interface NormalisedUse {
  readonly flags: readonly string[];
  /** `flags` joined by single spaces: the value for Portage's `USE=` and the compat `useflag`. */
  readonly text: string;
}

export type UseParseResult =
  | ({ readonly ok: true } & NormalisedUse)
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Why `token` (one flag, optionally `-`-prefixed) is not a USE flag (PMS 3.1.4:
 * `[A-Za-z0-9][A-Za-z0-9+_@-]*`), or `undefined`.
 *
 * @example
 * ```ts
 * useFlagProblem('-static-libs'); // undefined
 * useFlagProblem('$(id)'); // '"$(id)" contains "$" ...'
 * ```
 */
export function useFlagProblem(token: string): string | undefined {
  const name = token.startsWith('-') ? token.slice(1) : token;
  if (name.length === 0) return `${quoteValue(token)} is not a USE flag (no name)`;
  if (name.length > GentooLimits.useFlag)
    return `flag ${quoteValue(token)} is longer than ${GentooLimits.useFlag} characters`;
  const bad = firstForbidden(name, FLAG_CHAR);
  if (bad) return `${quoteValue(token)} contains ${bad} (a USE flag has only A-Z a-z 0-9 + _ @ -)`;
  if (!FLAG_START.test(name))
    return `${quoteValue(token)} is not a USE flag (it must start with a letter or digit, after an optional -)`;
  return undefined;
}

/**
 * Splits `input` into USE tokens: a string on ASCII whitespace; an array as given, each element
 * one token (an element holding whitespace is refused rather than re-split).
 *
 * @example
 * ```ts
 * splitUse(' a  -b\t'); // { ok: true, tokens: ['a', '-b'] }
 * ```
 */
export function splitUse(
  input: string | readonly string[],
): { ok: true; tokens: string[] } | { ok: false; problems: string[] } {
  if (typeof input === 'string') {
    if (input.length > GentooLimits.useText)
      return { ok: false, problems: [`is longer than ${GentooLimits.useText} characters (${input.length})`] };
    return { ok: true, tokens: input.split(SEPARATORS).filter((t) => t !== '') };
  }
  if (input.length > GentooLimits.useFlags * 2)
    return { ok: false, problems: [`has ${input.length} elements, more than ${GentooLimits.useFlags * 2}`] };
  const problems: string[] = [];
  input.forEach((token, i) => {
    if (typeof token !== 'string') problems.push(`element ${i} is not a string`);
    else if (token === '') problems.push(`element ${i} is empty`);
    else if (/\s/.test(token))
      problems.push(`element ${i} ${quoteValue(token)} holds whitespace (one flag per element)`);
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, tokens: [...input] };
}

/**
 * Validates and normalises a USE selection: split, check each flag against PMS, dedupe, keep the
 * **last** setting of a flag given several times (`gtk -gtk` → `-gtk`, as Portage's incremental
 * USE does), sort by flag name. Every problem is reported, not just the first.
 *
 * @example
 * ```ts
 * normaliseUse(['ssl', '-ssl', 'ipv6']); // { ok: true, flags: ['ipv6', '-ssl'], text: 'ipv6 -ssl' }
 * ```
 */
export function normaliseUse(input: string | readonly string[]): UseParseResult {
  const split = splitUse(input);
  if (!split.ok) return split;
  const problems: string[] = [];
  const enabled = new Map<string, boolean>();
  for (const token of split.tokens) {
    const problem = useFlagProblem(token);
    if (problem) {
      problems.push(problem);
      continue;
    }
    const negated = token.startsWith('-');
    const name = negated ? token.slice(1) : token;
    enabled.delete(name); // re-inserted below: the last setting wins
    enabled.set(name, !negated);
  }
  if (enabled.size > GentooLimits.useFlags)
    problems.push(`names ${enabled.size} flags, more than ${GentooLimits.useFlags}`);
  if (problems.length > 0) return { ok: false, problems };
  const names = [...enabled.keys()].sort(compareCodeUnits);
  const flags = names.map((name) => (enabled.get(name) ? name : `-${name}`));
  return { ok: true, flags, text: flags.join(' ') };
}

/** Plain code-unit order: locale-independent, so every host sorts (and hashes) alike. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
