import type { JsonObject, JsonValue } from '@spotjobs/core';
import { DatasetFormatError } from '../errors.ts';
import { isJsonObject } from '../model/wire-json.ts';
import { jsonErrorPosition } from './json-error-position.ts';
import { recordJson } from './ndjson-format.ts';
import type { RecordEncoder } from './record-encoder.ts';

/** The 1-based line of character `position` in `text`. */
function lineAt(text: string, position: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < position; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * Reads a whole JSON document (Aye-Aye's `.data`), at most `maxDocumentBytes` after
 * decompression. Bad UTF-8 or JSON is a `DatasetFormatError`; for bad JSON, with the line of
 * the first syntax error.
 *
 * @example
 * ```ts
 * const settings = await readJsonDocument(uri, chunks, { maxDocumentBytes: 1 << 20 });
 * ```
 */
export async function readJsonDocument(
  uri: string,
  chunks: AsyncIterable<Buffer>,
  options: { readonly maxDocumentBytes: number },
): Promise<JsonValue> {
  const parts: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of chunks) {
    bytes += chunk.length;
    if (bytes > options.maxDocumentBytes) {
      throw new DatasetFormatError(
        uri,
        undefined,
        `the JSON document is larger than ${options.maxDocumentBytes} bytes`,
      );
    }
    parts.push(chunk);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(parts));
  } catch (err) {
    throw new DatasetFormatError(uri, undefined, 'not valid UTF-8', { cause: err });
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const position = jsonErrorPosition(text);
    const line = position === undefined ? undefined : lineAt(text, position);
    throw new DatasetFormatError(uri, line, `not JSON (${message})`, { cause: err });
  }
}

/**
 * The records of a JSON document: it must be an array of objects.
 *
 * @example
 * ```ts
 * for (const row of jsonDocumentRecords(uri, [{ a: 1 }])) console.log(row.a);
 * ```
 */
export function* jsonDocumentRecords(uri: string, document: JsonValue): Generator<JsonObject> {
  if (!Array.isArray(document)) {
    throw new DatasetFormatError(
      uri,
      undefined,
      'the JSON document is not an array of records (read it whole with data())',
    );
  }
  for (const [index, element] of document.entries()) {
    if (!isJsonObject(element))
      throw new DatasetFormatError(uri, undefined, `element ${index} is not an object`);
    yield element;
  }
}

/** Writes records as one JSON array, one record per line, so any number stream through. */
export class JsonArrayEncoder implements RecordEncoder {
  readonly #uri: string;
  #count = 0;

  constructor(uri: string) {
    this.#uri = uri;
  }

  begin(): string {
    return '[';
  }

  encode(record: JsonObject, index: number): string {
    const text = recordJson(this.#uri, record, index);
    return `${this.#count++ === 0 ? '\n' : ',\n'}${text}`;
  }

  end(): string {
    return this.#count === 0 ? ']\n' : '\n]\n';
  }
}
