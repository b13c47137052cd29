import type { JsonObject } from '@spotjobs/core';

/**
 * Turns records into a format's text, piece by piece, so a writer can stream any number of
 * them: `begin` once, `encode` per record (0-based `index`), `end` once. A record the format
 * cannot hold throws `DatasetFormatError`.
 */
export interface RecordEncoder {
  begin(): string;
  encode(record: JsonObject, index: number): string;
  end(): string;
}
