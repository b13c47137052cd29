import { describe, expect, it } from 'vitest';
import { jsonErrorPosition } from '../src/datasets/json-error-position.ts';

/** A small seeded generator, so the fuzz cases are the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function randomJson(next: () => number, depth = 0): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 4 : 6));
  if (pick === 0) return Math.floor(next() * 2000) / (next() < 0.5 ? 1 : 7) - 500;
  if (pick === 1) return ['', 'a"b', 'ü\n\t', '\\u', 'x'][Math.floor(next() * 5)];
  if (pick === 2) return [true, false, null][Math.floor(next() * 3)];
  if (pick === 3) return 1e21;
  if (pick === 4) return Array.from({ length: Math.floor(next() * 4) }, () => randomJson(next, depth + 1));
  return Object.fromEntries(
    Array.from({ length: Math.floor(next() * 4) }, (_, i) => [`k${i}`, randomJson(next, depth + 1)]),
  );
}

function isValid(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('jsonErrorPosition', () => {
  it.each([
    ['{"a": }', 6],
    ['[1, 2,]', 6],
    ['{"a":1,}', 7],
    ['{"a" 1}', 5],
    ['[1 2]', 3],
    ['"tab\there"', 4],
    ['"bad \\x escape"', 5],
    ['01', 1],
    ['truex', 4],
    ['', 0],
    ['[[[[', 4],
    ['{"a":1} {}', 8],
    ['nul', 0],
  ])('finds the first error in %j at %i', (text, position) => {
    expect(jsonErrorPosition(text)).toBe(position);
  });

  it.each([
    ['{}'],
    ['[]'],
    [' [ ] '],
    ['{"a":[{"b":{}}, [], "x"]}'],
    ['-0.5e+10'],
    ['"\\u00e9\\n"'],
    ['\n\r\t null \n'],
  ])('accepts valid JSON %j', (text) => {
    expect(jsonErrorPosition(text)).toBeUndefined();
  });

  it('survives nesting deeper than the call stack', () => {
    expect(jsonErrorPosition(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBeUndefined();
  });

  // Positions may differ inside a bad number (V8 points at the bad character, this at the end
  // of the longest valid number); the line, which is what errors report, must agree.
  it('agrees with JSON.parse on random documents and one-character corruptions of them', () => {
    const lineOf = (text: string, position: number | undefined) => text.slice(0, position).split('\n').length;
    const next = random(42);
    const junk = ['{', '}', '[', ']', ',', ':', '"', '\\', ' ', 'x', '0', '-', '.', 'e', '\n'];
    for (let n = 0; n < 2000; n++) {
      const text = JSON.stringify(randomJson(next), null, next() < 0.5 ? 2 : undefined) ?? 'null';
      const at = Math.floor(next() * text.length);
      const corrupted =
        text.slice(0, at) + junk[Math.floor(next() * junk.length)]! + text.slice(at + (next() < 0.5 ? 1 : 0));
      expect(jsonErrorPosition(text)).toBeUndefined();
      const position = jsonErrorPosition(corrupted);
      expect(position === undefined, corrupted).toBe(isValid(corrupted));
      try {
        JSON.parse(corrupted);
      } catch (err) {
        const reported = /at position (\d+)/.exec((err as Error).message);
        if (reported)
          expect(lineOf(corrupted, position), corrupted).toBe(lineOf(corrupted, Number(reported[1])));
      }
    }
  });
});
