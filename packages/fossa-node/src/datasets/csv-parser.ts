import { DatasetFormatError } from '../errors.ts';

/** One CSV record: its fields, and the 1-based line it starts on. */
export interface CsvRow {
  readonly fields: string[];
  readonly line: number;
}

export interface CsvParserOptions {
  /** One character other than a quote, CR or LF (default `,`). */
  readonly delimiter?: string;
  /** Longest record, in characters (default 16 Mi). */
  readonly maxRecordChars?: number;
}

type State = 'fieldStart' | 'unquoted' | 'quoted' | 'quoteInQuoted';

/**
 * An incremental CSV parser for RFC 4180, fed text in pieces of any size:
 *
 * - fields are separated by the delimiter and records by CRLF, LF or a lone CR;
 * - a field in double quotes may hold delimiters, quotes (doubled: `""`) and line breaks;
 * - a quote inside an unquoted field, anything but a delimiter or line break after a closing
 *   quote, and a quoted field still open at the end are errors (`DatasetFormatError` with the
 *   line), never guessed at;
 * - blank lines are skipped (a record with one empty field is written `""`, so it survives);
 * - the last record needs no line break.
 *
 * Line numbers count physical lines, including those inside quoted fields, so an error points
 * at the line an editor shows.
 *
 * @example
 * ```ts
 * const parser = new CsvParser('in.csv');
 * parser.push('a,"b ""c"""\r\n1,'); // [{ fields: ['a', 'b "c"'], line: 1 }]
 * parser.end(); // [{ fields: ['1', ''], line: 2 }]
 * ```
 */
export class CsvParser {
  readonly #uri: string;
  readonly #delimiter: string;
  readonly #maxRecordChars: number;
  /** Where an unquoted field's run of plain characters stops. */
  readonly #unquotedStop: RegExp;
  #state: State = 'fieldStart';
  #fields: string[] = [];
  #field = '';
  #recordChars = 0;
  #recordStarted = false;
  #afterCr = false;
  #line = 1;
  #recordLine = 1;
  #quoteLine = 1;

  constructor(uri: string, options: CsvParserOptions = {}) {
    const delimiter = options.delimiter ?? ',';
    if (delimiter.length !== 1 || '"\r\n'.includes(delimiter)) {
      throw new DatasetFormatError(
        uri,
        undefined,
        'the CSV delimiter must be one character other than a quote or a line break',
      );
    }
    this.#uri = uri;
    this.#delimiter = delimiter;
    this.#maxRecordChars = options.maxRecordChars ?? 16 * 1024 * 1024;
    this.#unquotedStop = new RegExp(`["\\r\\n${delimiter.replace(/[\\\]^-]/g, '\\$&')}]`, 'g');
  }

  /** The line the parser has reached (for errors found outside it, such as bad UTF-8). */
  get line(): number {
    return this.#line;
  }

  /** Parses the next piece of text; answers the records it completed. */
  push(text: string): CsvRow[] {
    const rows: CsvRow[] = [];
    let i = 0;
    while (i < text.length) {
      switch (this.#state) {
        case 'fieldStart':
          i = this.#atFieldStart(text, i, rows);
          break;
        case 'unquoted':
          i = this.#inUnquoted(text, i, rows);
          break;
        case 'quoted':
          i = this.#inQuoted(text, i);
          break;
        case 'quoteInQuoted':
          i = this.#afterQuote(text, i, rows);
          break;
      }
    }
    if (this.#recordChars + this.#field.length > this.#maxRecordChars) {
      throw this.#error(this.#recordLine, `the record is longer than ${this.#maxRecordChars} characters`);
    }
    return rows;
  }

  /** Ends the input; answers the last record, if it had no line break. */
  end(): CsvRow[] {
    const rows: CsvRow[] = [];
    if (this.#state === 'quoted') throw this.#error(this.#quoteLine, 'a quoted field is never closed');
    if (this.#state !== 'fieldStart' || this.#recordStarted) {
      this.#pushField();
      this.#emit(rows);
    }
    this.#state = 'fieldStart';
    return rows;
  }

  #atFieldStart(text: string, i: number, rows: CsvRow[]): number {
    const c = text[i]!;
    const afterCr = this.#afterCr;
    this.#afterCr = c === '\r';
    if (c === '"') {
      this.#startRecord();
      this.#quoteLine = this.#line;
      this.#state = 'quoted';
    } else if (c === this.#delimiter) {
      this.#startRecord();
      this.#pushField();
    } else if (c === '\r' || c === '\n') {
      if (c === '\n' && afterCr) return i + 1; // the LF of a CRLF that already ended the line
      if (this.#recordStarted) {
        this.#pushField(); // a record ending in a delimiter has an empty last field
        this.#emit(rows);
      }
      this.#newLine();
    } else {
      this.#startRecord();
      this.#state = 'unquoted';
      return i; // the unquoted scan takes this character
    }
    return i + 1;
  }

  #inUnquoted(text: string, i: number, rows: CsvRow[]): number {
    this.#unquotedStop.lastIndex = i;
    const stop = this.#unquotedStop.exec(text);
    this.#afterCr = false;
    if (!stop) {
      this.#field += text.slice(i);
      return text.length;
    }
    this.#field += text.slice(i, stop.index);
    const c = stop[0];
    if (c === '"') {
      throw this.#error(
        this.#line,
        'a quote inside an unquoted field (quote the whole field and double its quotes)',
      );
    }
    this.#pushField();
    this.#state = 'fieldStart';
    if (c !== this.#delimiter) {
      this.#emit(rows);
      this.#newLine();
      this.#afterCr = c === '\r';
    }
    return stop.index + 1;
  }

  #inQuoted(text: string, i: number): number {
    const quote = text.indexOf('"', i);
    const content = text.slice(i, quote < 0 ? text.length : quote);
    this.#countLineBreaks(content);
    this.#field += content;
    if (quote < 0) return text.length;
    this.#afterCr = false;
    this.#state = 'quoteInQuoted';
    return quote + 1;
  }

  #afterQuote(text: string, i: number, rows: CsvRow[]): number {
    const c = text[i]!;
    this.#afterCr = c === '\r';
    if (c === '"') {
      this.#field += '"'; // a doubled quote
      this.#state = 'quoted';
    } else if (c === this.#delimiter) {
      this.#pushField();
      this.#state = 'fieldStart';
    } else if (c === '\r' || c === '\n') {
      this.#pushField();
      this.#emit(rows);
      this.#newLine();
      this.#state = 'fieldStart';
    } else {
      throw this.#error(
        this.#line,
        `${JSON.stringify(c)} after a closing quote (a field's quotes must enclose all of it, and quotes inside are doubled)`,
      );
    }
    return i + 1;
  }

  /** Counts the lines inside a quoted field's text: CRLF, LF and a lone CR each end one. */
  #countLineBreaks(content: string): void {
    if (content.length === 0) return;
    if (!content.includes('\n') && !content.includes('\r')) {
      this.#afterCr = false;
      return;
    }
    for (const c of content) {
      if (c === '\r' || (c === '\n' && !this.#afterCr)) this.#line++;
      this.#afterCr = c === '\r';
    }
  }

  #startRecord(): void {
    if (this.#recordStarted) return;
    this.#recordStarted = true;
    this.#recordLine = this.#line;
  }

  #pushField(): void {
    this.#recordChars += this.#field.length;
    this.#fields.push(this.#field);
    this.#field = '';
  }

  #emit(rows: CsvRow[]): void {
    rows.push({ fields: this.#fields, line: this.#recordLine });
    this.#fields = [];
    this.#recordChars = 0;
    this.#recordStarted = false;
  }

  #newLine(): void {
    this.#line++;
    this.#recordLine = this.#line;
  }

  #error(line: number, reason: string): DatasetFormatError {
    return new DatasetFormatError(this.#uri, line, reason);
  }
}
