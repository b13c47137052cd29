import { StringDecoder } from 'node:string_decoder';

/**
 * Turns a byte stream into lines: UTF-8 split across chunks decodes whole, `\r\n` and `\n` end
 * a line, and a line longer than `maxLineLength` is emitted in pieces (a build that prints a
 * megabyte without a newline must not hold it all in memory).
 *
 * @example
 * ```ts
 * const lines = new LineSplitter((line) => console.log(line));
 * lines.push(Buffer.from('a\nb')); // prints "a"
 * lines.end();                      // prints "b"
 * ```
 */
export class LineSplitter {
  readonly #onLine: (line: string) => void;
  readonly #maxLineLength: number;
  readonly #decoder = new StringDecoder('utf8');
  #pending = '';

  constructor(onLine: (line: string) => void, maxLineLength = 64 * 1024) {
    this.#onLine = onLine;
    this.#maxLineLength = maxLineLength;
  }

  push(chunk: Uint8Array): void {
    this.#take(this.#decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  }

  /** Emits what is left (a last line without a newline). */
  end(): void {
    this.#take(this.#decoder.end());
    if (this.#pending.length > 0) this.#emit(this.#pending);
    this.#pending = '';
  }

  #take(text: string): void {
    let rest = this.#pending + text;
    for (let newline = rest.indexOf('\n'); newline !== -1; newline = rest.indexOf('\n')) {
      this.#emit(rest.slice(0, newline));
      rest = rest.slice(newline + 1);
    }
    while (rest.length > this.#maxLineLength) {
      this.#onLine(rest.slice(0, this.#maxLineLength));
      rest = rest.slice(this.#maxLineLength);
    }
    this.#pending = rest;
  }

  #emit(line: string): void {
    let rest = line.endsWith('\r') ? line.slice(0, -1) : line;
    while (rest.length > this.#maxLineLength) {
      this.#onLine(rest.slice(0, this.#maxLineLength));
      rest = rest.slice(this.#maxLineLength);
    }
    this.#onLine(rest);
  }
}
