import type { JsonObject } from '@spotjobs/core';
import { DatasetFormatError } from '../errors.ts';
import { CsvParser } from './csv-parser.ts';
import type { RecordEncoder } from './record-encoder.ts';

/** A CSV record: every value is the field's text, as Python's `csv.DictReader` gives it. */
export type CsvRecord = Record<string, string>;

const NEEDS_QUOTES = /[",\r\n]/;

/** Throws `DatasetFormatError` unless `names` are non-empty and distinct; answers them. */
export function checkCsvFieldNames(
  uri: string,
  names: readonly string[],
  line: number | undefined,
): readonly string[] {
  const seen = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string' || name === '')
      throw new DatasetFormatError(uri, line, 'a CSV field name is empty');
    if (seen.has(name))
      throw new DatasetFormatError(uri, line, `the CSV field name ${JSON.stringify(name)} appears twice`);
    seen.add(name);
  }
  return names;
}

/** How a CSV dataset's columns are known. */
export interface CsvColumns {
  /** The columns. With a header line, it must match them; without one, they are required. */
  readonly fieldNames?: readonly string[];
  /** Whether the first line names the columns (default true). */
  readonly header?: boolean;
}

/** Throws `DatasetFormatError` unless the columns are usable: distinct non-empty names, given when there is no header. */
export function checkCsvColumns(uri: string, columns: CsvColumns): void {
  if (columns.fieldNames) checkCsvFieldNames(uri, columns.fieldNames, undefined);
  else if (columns.header === false) {
    throw new DatasetFormatError(uri, undefined, 'a CSV dataset without a header line needs fieldNames');
  }
}

/**
 * Reads CSV records from a byte stream (strict UTF-8, BOM dropped): the first record is the
 * header (unless `header` is false, when `fieldNames` are the columns), and each later one
 * becomes an object keyed by it. A header other than the expected `fieldNames`, and a record
 * whose field count differs from the header's, are errors with their line numbers, as are
 * quoting errors (see `CsvParser`).
 *
 * @example
 * ```ts
 * for await (const row of csvRecords(uri, chunks, { maxRecordBytes: 1 << 20 })) console.log(row.colour);
 * ```
 */
export async function* csvRecords(
  uri: string,
  chunks: AsyncIterable<Buffer>,
  options: CsvColumns & { readonly maxRecordBytes: number },
): AsyncGenerator<CsvRecord> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const parser = new CsvParser(uri, { maxRecordChars: options.maxRecordBytes });
  checkCsvColumns(uri, options);
  const expected = options.fieldNames;
  let header = options.header === false ? expected : undefined;
  const decode = (chunk?: Buffer): string => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch (err) {
      throw new DatasetFormatError(uri, parser.line, 'not valid UTF-8', { cause: err });
    }
  };

  function* records(rows: readonly { fields: string[]; line: number }[]): Generator<CsvRecord> {
    for (const row of rows) {
      if (header === undefined) {
        header = checkCsvFieldNames(uri, row.fields, row.line);
        if (expected && expected.join('\u0000') !== header.join('\u0000')) {
          throw new DatasetFormatError(
            uri,
            row.line,
            `the header is ${JSON.stringify(header)}, not ${JSON.stringify(expected)}`,
          );
        }
        continue;
      }
      if (row.fields.length !== header.length) {
        throw new DatasetFormatError(
          uri,
          row.line,
          `the record has ${row.fields.length} fields, the header has ${header.length}`,
        );
      }
      // fromEntries defines own properties, so a column named __proto__ is data, not a prototype.
      yield Object.fromEntries(header.map((name, i) => [name, row.fields[i]!]));
    }
  }

  for await (const chunk of chunks) yield* records(parser.push(decode(chunk)));
  yield* records(parser.push(decode()));
  yield* records(parser.end());
}

/** One value as CSV text: strings as they are, numbers and booleans spelled out, null as empty. */
function fieldText(uri: string, value: unknown, name: string, index: number): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (
    (typeof value === 'number' && Number.isFinite(value)) ||
    typeof value === 'boolean' ||
    typeof value === 'bigint'
  ) {
    return String(value);
  }
  throw new DatasetFormatError(
    uri,
    undefined,
    `record ${index} field ${JSON.stringify(name)} is not a string, number, boolean or null`,
  );
}

/**
 * One CSV line per RFC 4180: fields with a quote, comma or line break are quoted with their
 * quotes doubled; lines end in CRLF. A lone empty field is written `""` so the line is not
 * read back as blank.
 *
 * @example
 * ```ts
 * csvLine(['a', 'b,"c"']); // 'a,"b,""c"""\r\n'
 * ```
 */
export function csvLine(fields: readonly string[]): string {
  if (fields.length === 1 && fields[0] === '') return '""\r\n';
  const quoted = fields.map((field) =>
    NEEDS_QUOTES.test(field) ? `"${field.replaceAll('"', '""')}"` : field,
  );
  return `${quoted.join(',')}\r\n`;
}

/**
 * Writes records as CSV, with a header line unless `header` is false: the columns are
 * `fieldNames`, or else the first record's keys. A later record with a key outside the
 * columns is an error (as Python's `DictWriter` raises); a missing key is an empty field.
 */
export class CsvEncoder implements RecordEncoder {
  readonly #uri: string;
  readonly #header: boolean;
  #fieldNames: readonly string[] | undefined;
  #columns = new Set<string>();

  constructor(uri: string, columns: CsvColumns = {}) {
    checkCsvColumns(uri, columns);
    this.#uri = uri;
    this.#header = columns.header !== false;
    this.#fieldNames = columns.fieldNames;
    this.#columns = new Set(this.#fieldNames);
  }

  begin(): string {
    return this.#fieldNames && this.#header ? csvLine(this.#fieldNames) : '';
  }

  encode(record: JsonObject, index: number): string {
    let header = '';
    if (this.#fieldNames === undefined) {
      this.#fieldNames = checkCsvFieldNames(this.#uri, Object.keys(record), undefined);
      this.#columns = new Set(this.#fieldNames);
      header = csvLine(this.#fieldNames);
    }
    const columns = this.#fieldNames;
    for (const key of Object.keys(record)) {
      if (!this.#columns.has(key)) {
        throw new DatasetFormatError(
          this.#uri,
          undefined,
          `record ${index} has field ${JSON.stringify(key)}, which is not a column`,
        );
      }
    }
    const value = (name: string) => (Object.hasOwn(record, name) ? record[name] : undefined);
    return header + csvLine(columns.map((name) => fieldText(this.#uri, value(name), name, index)));
  }

  end(): string {
    return '';
  }
}
