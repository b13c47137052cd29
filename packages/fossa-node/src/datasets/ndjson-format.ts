import type { JsonObject } from '@spotjobs/core';
import { DatasetFormatError } from '../errors.ts';
import { isJsonObject } from '../model/wire-json.ts';
import { readLines } from './line-reader.ts';
import type { RecordEncoder } from './record-encoder.ts';

/**
 * Reads NDJSON: one JSON object per line (LF or CRLF, strict UTF-8, BOM dropped); blank lines
 * are skipped. A line that is not JSON, or not an object, is a `DatasetFormatError` with its
 * line number.
 *
 * @example
 * ```ts
 * for await (const row of ndjsonRecords(uri, chunks, { maxRecordBytes: 1 << 20 })) console.log(row.id);
 * ```
 */
export async function* ndjsonRecords(
  uri: string,
  chunks: AsyncIterable<Buffer>,
  options: { readonly maxRecordBytes: number },
): AsyncGenerator<JsonObject> {
  for await (const { text, line } of readLines(chunks, { uri, maxLineBytes: options.maxRecordBytes })) {
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new DatasetFormatError(
        uri,
        line,
        `not JSON (${err instanceof Error ? err.message : String(err)})`,
        {
          cause: err,
        },
      );
    }
    if (!isJsonObject(value)) throw new DatasetFormatError(uri, line, 'the line is JSON but not an object');
    yield value;
  }
}

/** Serialises one record as JSON text, or explains why it cannot be. */
export function recordJson(uri: string, record: JsonObject, index: number): string {
  if (!isJsonObject(record)) throw new DatasetFormatError(uri, undefined, `record ${index} is not an object`);
  try {
    return JSON.stringify(record);
  } catch (err) {
    throw new DatasetFormatError(
      uri,
      undefined,
      `record ${index} is not JSON (${err instanceof Error ? err.message : String(err)})`,
      {
        cause: err,
      },
    );
  }
}

/** Writes records as NDJSON, one object per LF-terminated line (JSON escapes every line break inside strings). */
export class NdjsonEncoder implements RecordEncoder {
  readonly #uri: string;

  constructor(uri: string) {
    this.#uri = uri;
  }

  begin(): string {
    return '';
  }

  encode(record: JsonObject, index: number): string {
    return `${recordJson(this.#uri, record, index)}\n`;
  }

  end(): string {
    return '';
  }
}
