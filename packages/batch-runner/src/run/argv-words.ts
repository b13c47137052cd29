import { ValidationError } from '@spotjobs/core';

// How APP_PARAMS (and the other argv-valued settings) become an argv array, without a shell:
// a value that starts with `[` is a JSON array of strings, taken as is; anything else is split
// on runs of whitespace. No quotes, escapes, globs or `$VAR` expansion exist, so a value can
// never run a command; a word that needs a space goes in the JSON form.

/**
 * Splits an argv-valued setting into words: a JSON array of strings, or whitespace-separated
 * words. Returns the problem as a string instead of throwing, for config validation.
 *
 * @example
 * ```ts
 * parseArgvWords('-n 4 --fast');          // { words: ['-n', '4', '--fast'] }
 * parseArgvWords('["--title", "a b"]');   // { words: ['--title', 'a b'] }
 * parseArgvWords('["x", 1]');             // { problem: 'element 1 is not a string' }
 * ```
 */
export function parseArgvWords(value: string | undefined): { words: string[] } | { problem: string } {
  const text = (value ?? '').trim();
  if (text === '') return { words: [] };
  if (text.includes('\0')) return { problem: 'contains a NUL character' };
  if (!text.startsWith('[')) return { words: text.split(/\s+/) };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { problem: `starts with [ but is not a JSON array (${(err as Error).message})` };
  }
  if (!Array.isArray(parsed)) return { problem: 'starts with [ but is not a JSON array' };
  const bad = parsed.findIndex((word) => typeof word !== 'string');
  if (bad >= 0) return { problem: `element ${bad} is not a string` };
  return { words: parsed as string[] };
}

/** Values the placeholders `{input}`, `{input_dir}`, `{output}` and `{hostfile}` stand for. */
export interface ArgvPlaceholders {
  readonly input?: string | undefined;
  readonly inputDir?: string | undefined;
  readonly output?: string | undefined;
  readonly hostfile?: string | undefined;
}

const PLACEHOLDER = /\{(input|input_dir|output|hostfile)\}/g;

/**
 * Replaces `{input}`, `{input_dir}`, `{output}` and `{hostfile}` inside each word with their
 * paths (SCAR passed the input file and output directory as arguments; here the user places
 * them). A placeholder without a value is an error, so a run never gets a literal `{input}`.
 *
 * @example
 * ```ts
 * fillPlaceholders(['-i', '{input}', '--out={output}'], { input: '/w/in/a.dat', output: '/w/out' });
 * // ['-i', '/w/in/a.dat', '--out=/w/out']
 * ```
 */
export function fillPlaceholders(words: readonly string[], values: ArgvPlaceholders): string[] {
  const lookup: Record<string, string | undefined> = {
    input: values.input,
    input_dir: values.inputDir,
    output: values.output,
    hostfile: values.hostfile,
  };
  return words.map((word) =>
    word.replace(PLACEHOLDER, (whole, name: string) => {
      const value = lookup[name];
      if (value === undefined)
        throw new ValidationError(`${whole} is used but this run has no ${name.replace('_', ' ')}`);
      return value;
    }),
  );
}
