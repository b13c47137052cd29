import type { JsonObject } from '@spotjobs/core';
import { DatasetUsageError } from '../errors.ts';
import type { ByteSink } from './byte-sink.ts';
import type { RecordEncoder } from './record-encoder.ts';

/** What a writer stored. `bytes` is the stored size (compressed, for gzip). */
export interface WriteSummary {
  readonly records: number;
  readonly bytes: number;
}

// Records are joined into pieces of about this size before they go to the sink: one stream
// write per record would cost more than the encoding.
const FLUSH_CHARS = 64 * 1024;

/**
 * Writes records to one dataset, streaming: `add` as many as needed, then `close` to make
 * them visible all at once, or `abort` to leave the dataset as it was. A record the format
 * cannot hold aborts the writer and throws `DatasetFormatError`, so a half-written dataset is
 * never published. Obtain one from `Dataset.openWriter`.
 *
 * @example
 * ```ts
 * const writer = await dataset.openWriter();
 * for (const row of rows) await writer.add(row);
 * const { records } = await writer.close();
 * ```
 */
export class DatasetWriter {
  readonly #uri: string;
  readonly #encoder: RecordEncoder;
  readonly #sink: ByteSink;
  readonly #onSettled: () => void;
  #buffer = '';
  #records = 0;
  #begun = false;
  #settled = false;

  /** Use `Dataset.openWriter`. */
  constructor(uri: string, encoder: RecordEncoder, sink: ByteSink, onSettled: () => void = () => {}) {
    this.#uri = uri;
    this.#encoder = encoder;
    this.#sink = sink;
    this.#onSettled = onSettled;
  }

  /** Records added so far. */
  get records(): number {
    return this.#records;
  }

  async add(record: JsonObject): Promise<void> {
    this.#ensureOpen();
    try {
      this.#begin();
      this.#buffer += this.#encoder.encode(record, this.#records);
    } catch (err) {
      await this.abort(err);
      throw err;
    }
    this.#records++;
    if (this.#buffer.length >= FLUSH_CHARS) await this.#flush();
  }

  /** Ends the dataset and publishes it; answers what was stored. */
  async close(): Promise<WriteSummary> {
    this.#ensureOpen();
    try {
      this.#begin();
      this.#buffer += this.#encoder.end();
      await this.#flush();
    } catch (err) {
      await this.abort(err);
      throw err;
    }
    this.#settled = true;
    this.#onSettled();
    return { records: this.#records, bytes: await this.#sink.commit() };
  }

  /** Drops everything written; the dataset keeps its previous content (or stays absent). */
  async abort(reason?: unknown): Promise<void> {
    if (this.#settled) return;
    this.#settled = true;
    this.#onSettled();
    await this.#sink.abort(reason);
  }

  /** The format's opening (a CSV header, a `[`), once, before the first record is encoded. */
  #begin(): void {
    if (this.#begun) return;
    this.#begun = true;
    this.#buffer += this.#encoder.begin();
  }

  async #flush(): Promise<void> {
    if (this.#buffer === '') return;
    const text = this.#buffer;
    this.#buffer = '';
    await this.#sink.write(text);
  }

  #ensureOpen(): void {
    if (this.#settled) throw new DatasetUsageError(this.#uri, 'the writer is already closed');
  }
}
