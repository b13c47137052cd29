import { DatasetFormatError } from '../errors.ts';

/** One line of text and its 1-based line number. */
export interface TextLine {
  readonly text: string;
  readonly line: number;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines (LF or CRLF), decoding each as strict UTF-8. Splitting
 * happens on bytes, which is safe because 0x0A never occurs inside a multi-byte UTF-8
 * character, and it lets a line be refused as soon as it passes `maxLineBytes`, before it is
 * all in memory. A BOM at the start is dropped; the last line needs no newline. Invalid UTF-8
 * and over-long lines are `DatasetFormatError`s with the line number.
 *
 * @example
 * ```ts
 * for await (const { text, line } of readLines(chunks, { uri, maxLineBytes: 1 << 20 })) parse(text, line);
 * ```
 */
export async function* readLines(
  chunks: AsyncIterable<Buffer>,
  options: { readonly uri: string; readonly maxLineBytes: number },
): AsyncGenerator<TextLine> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = 0;

  const finishLine = (bytes: Buffer): TextLine => {
    line++;
    if (bytes.length > options.maxLineBytes) throw tooLong(options.uri, line, options.maxLineBytes);
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    let text: string;
    try {
      text = decoder.decode(bytes.subarray(0, end));
    } catch (err) {
      throw new DatasetFormatError(options.uri, line, 'not valid UTF-8', { cause: err });
    }
    return { text: line === 1 && text.startsWith('\uFEFF') ? text.slice(1) : text, line };
  };

  for await (const chunk of chunks) {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(LF, start);
      if (newline < 0) {
        const rest = chunk.subarray(start);
        pendingBytes += rest.length;
        if (pendingBytes > options.maxLineBytes) throw tooLong(options.uri, line + 1, options.maxLineBytes);
        if (rest.length > 0) pending.push(rest);
        break;
      }
      const piece = chunk.subarray(start, newline);
      const bytes = pending.length > 0 ? Buffer.concat([...pending, piece]) : piece;
      pending = [];
      pendingBytes = 0;
      yield finishLine(bytes);
      start = newline + 1;
    }
  }
  if (pendingBytes > 0) yield finishLine(Buffer.concat(pending));
}

function tooLong(uri: string, line: number, max: number): DatasetFormatError {
  return new DatasetFormatError(uri, line, `the line is longer than ${max} bytes`);
}
