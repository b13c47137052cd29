// V8's JSON.parse reports a position for some syntax errors only ("Unexpected token 'x', ...
// is not valid JSON" has none), so a dataset error could not say its line. This scanner is
// run on the failure path only: it walks the JSON grammar (RFC 8259) without building
// values, with an explicit stack so deep nesting cannot overflow, and answers where the
// first error is.

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;
const WHITESPACE = /[ \t\n\r]*/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

interface Frame {
  readonly kind: 'object' | 'array';
  /** `first`: just opened; `next`: after an element; `colon`: after an object key. */
  state: 'first' | 'next' | 'colon';
}

/**
 * The index of the first JSON syntax error in `text`, or `undefined` when it is valid JSON.
 *
 * @example
 * ```ts
 * jsonErrorPosition('{"a": }'); // 6
 * jsonErrorPosition('[1, 2]'); // undefined
 * ```
 */
export function jsonErrorPosition(text: string): number | undefined {
  let i = 0;
  const stack: Frame[] = [];

  const skipWhitespace = () => {
    WHITESPACE.lastIndex = i;
    WHITESPACE.exec(text);
    i = WHITESPACE.lastIndex;
  };
  /** Scans a string at `i`; answers false at the first bad character (left in `i`). */
  const scanString = (): boolean => {
    i++; // the opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        ESCAPE.lastIndex = i;
        if (!ESCAPE.test(text)) return false;
        i = ESCAPE.lastIndex;
      } else i++;
    }
    return false;
  };
  /** Scans a value at `i` (pushing a frame for an object or array); false at an error. */
  const scanValue = (): boolean => {
    const c = text[i];
    if (c === '{' || c === '[') {
      i++;
      stack.push({ kind: c === '{' ? 'object' : 'array', state: 'first' });
      return true;
    }
    if (c === '"') return scanString();
    for (const pattern of [NUMBER, LITERAL]) {
      pattern.lastIndex = i;
      if (pattern.test(text)) {
        i = pattern.lastIndex;
        return true;
      }
    }
    return false;
  };

  skipWhitespace();
  if (!scanValue()) return i;
  for (;;) {
    skipWhitespace();
    const frame = stack.at(-1);
    if (!frame) return i === text.length ? undefined : i;
    const c = text[i];
    if (frame.state === 'colon') {
      if (c !== ':') return i;
      i++;
      skipWhitespace();
      frame.state = 'next';
      if (!scanValue()) return i;
      continue;
    }
    if (c === (frame.kind === 'array' ? ']' : '}')) {
      i++;
      stack.pop();
      continue;
    }
    if (frame.state === 'next') {
      if (c !== ',') return i;
      i++;
      skipWhitespace();
    }
    // An element: a value in an array, a key in an object (a trailing comma fails here).
    if (frame.kind === 'array') {
      frame.state = 'next';
      if (!scanValue()) return i;
    } else {
      if (text[i] !== '"' || !scanString()) return i;
      frame.state = 'colon';
    }
  }
}
