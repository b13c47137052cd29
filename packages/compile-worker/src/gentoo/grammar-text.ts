// Wording shared by the grammar checks: a refused value is quoted (shortened, JSON-escaped so
// control characters and quotes stay visible) and the first offending character is named, so a
// 400 says exactly what to fix without echoing an unbounded or unprintable input.

const SHOWN_CHARACTERS = 40;

/**
 * `value` as it appears in an error message: JSON-quoted, cut after 40 characters.
 *
 * @example
 * ```ts
 * quoteValue('a\u0000b'); // '"a\\u0000b"'
 * ```
 */
export function quoteValue(value: string): string {
  const chars = [...value];
  const shown = chars.length > SHOWN_CHARACTERS ? `${chars.slice(0, SHOWN_CHARACTERS).join('')}…` : value;
  return JSON.stringify(shown);
}

/**
 * Names one character for a human: printable ASCII in quotes, anything else as its code
 * point (`U+00E9`), so look-alikes and invisible characters are told apart.
 *
 * @example
 * ```ts
 * describeCharacter(';'); // '";"'
 * describeCharacter('\u00a0'); // 'U+00A0'
 * ```
 */
export function describeCharacter(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (code >= 0x21 && code <= 0x7e) return JSON.stringify(char);
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The first character of `value` (by code point) that `allowed` (a one-character class) does
 * not match, described by `describeCharacter`; `undefined` when all are allowed.
 *
 * @example
 * ```ts
 * firstForbidden('ab$c', /[a-z]/); // '"$"'
 * ```
 */
export function firstForbidden(value: string, allowed: RegExp): string | undefined {
  for (const char of value) {
    if (!allowed.test(char)) return describeCharacter(char);
  }
  return undefined;
}
