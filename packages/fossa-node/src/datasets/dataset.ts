import type { JsonObject, JsonValue } from '@spotjobs/core';
import { AbortedError } from '@spotjobs/core';
import { DatasetUsageError } from '../errors.ts';
import { openByteSink } from './byte-sink.ts';
import { datasetExists, readDatasetBytes } from './byte-source.ts';
import { type CsvColumns, CsvEncoder, checkCsvColumns, csvRecords } from './csv-format.ts';
import { type DatasetIoOptions, datasetIoDefaults } from './dataset-io.ts';
import { type DatasetFormat, type DatasetLocation, parseDatasetUri } from './dataset-uri.ts';
import { DatasetWriter, type WriteSummary } from './dataset-writer.ts';
import { JsonArrayEncoder, jsonDocumentRecords, readJsonDocument } from './json-format.ts';
import { NdjsonEncoder, ndjsonRecords } from './ndjson-format.ts';
import type { RecordEncoder } from './record-encoder.ts';

/** How to open a dataset: where things are (`DatasetIoOptions`), and what the URI does not say. */
export interface OpenDatasetOptions extends DatasetIoOptions {
  readonly format?: DatasetFormat;
  readonly compression?: 'none' | 'gzip';
  /** CSV: the columns, in order. Writing without them takes the first record's keys; reading checks the header against them. */
  readonly fieldNames?: readonly string[];
  /** CSV: whether the first line names the columns (default true); without one, `fieldNames` are required. */
  readonly csvHeader?: boolean;
  /** JSON `writeData`: indentation (default none). */
  readonly indent?: number;
  /** Aborts every read and write of this dataset (a model's task signal). */
  readonly signal?: AbortSignal;
}

/**
 * A dataset, Aye-Aye's connector: ndjson, json or csv, in a local file or an S3 object, plain
 * or gzip. Opening does no I/O (the URI is checked at once); reading streams (`records()`, or
 * `data()` for a whole JSON document) and writing is atomic (`openWriter`, `write`,
 * `writeData`): the dataset shows the old content or the new, never a part.
 *
 * @example
 * ```ts
 * const input = openDataset('s3://lake/2024/rows.ndjson.gz', { bucketStore });
 * const output = openDataset('/data/out/summary.csv', { fieldNames: ['id', 'total'] });
 * const writer = await output.openWriter();
 * for await (const row of input) await writer.add({ id: row.id, total: row.total });
 * await writer.close();
 * ```
 */
export function openDataset(uri: string, options: OpenDatasetOptions = {}): Dataset {
  return new Dataset(parseDatasetUri(uri, options), options);
}

export class Dataset {
  readonly location: DatasetLocation;
  readonly #options: OpenDatasetOptions;
  readonly #writers = new Set<DatasetWriter>();

  /** Use `openDataset`; this takes an already checked location. */
  constructor(location: DatasetLocation, options: OpenDatasetOptions = {}) {
    this.location = location;
    this.#options = options;
    // Fail now rather than at the first read or write: the CSV columns must be usable.
    if (location.format === 'csv') checkCsvColumns(location.uri, this.#csvColumns());
  }

  get uri(): string {
    return this.location.uri;
  }

  /** The records, streamed: NDJSON lines, CSV rows (objects of strings), or the elements of a JSON array. */
  async *records(signal?: AbortSignal): AsyncGenerator<JsonObject> {
    const active = this.#signal(signal);
    for await (const record of this.#decode(readDatasetBytes(this.location, this.#options, active))) {
      // Records already read ahead must not outrun an abort.
      if (active.aborted) throw new AbortedError({ cause: active.reason });
      yield record;
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<JsonObject> {
    return this.records();
  }

  /** A JSON dataset's whole document (Aye-Aye's `.data`). */
  async data(signal?: AbortSignal): Promise<JsonValue> {
    this.#requireJson('data()');
    return this.#document(readDatasetBytes(this.location, this.#options, this.#signal(signal)));
  }

  /** Whether the dataset exists (Aye-Aye's `datasource_exists`). */
  exists(signal?: AbortSignal): Promise<boolean> {
    return datasetExists(this.location, this.#options, this.#signal(signal));
  }

  /** A writer that replaces the dataset when closed. `close_datasets` closes writers still open. */
  async openWriter(signal?: AbortSignal): Promise<DatasetWriter> {
    const encoder = this.#encoder();
    const sink = await openByteSink(this.location, this.#options, this.#signal(signal));
    const writer: DatasetWriter = new DatasetWriter(this.location.uri, encoder, sink, () =>
      this.#writers.delete(writer),
    );
    this.#writers.add(writer);
    return writer;
  }

  /** Replaces the dataset with `records`; on any error nothing is published. */
  async write(
    records: Iterable<JsonObject> | AsyncIterable<JsonObject>,
    signal?: AbortSignal,
  ): Promise<WriteSummary> {
    const writer = await this.openWriter(signal);
    try {
      for await (const record of records) await writer.add(record);
    } catch (err) {
      await writer.abort(err);
      throw err;
    }
    return writer.close();
  }

  /** Replaces a JSON dataset with `value` as one document (Aye-Aye's `.data = value`). */
  async writeData(value: JsonValue, signal?: AbortSignal): Promise<WriteSummary> {
    this.#requireJson('writeData()');
    const text = `${JSON.stringify(value, null, this.#options.indent)}\n`;
    const sink = await openByteSink(this.location, this.#options, this.#signal(signal));
    try {
      await sink.write(text);
    } catch (err) {
      await sink.abort(err);
      throw err;
    }
    return { records: Array.isArray(value) ? value.length : 1, bytes: await sink.commit() };
  }

  /** Closes (publishes) every writer still open. */
  async close(): Promise<void> {
    for (const writer of [...this.#writers]) await writer.close();
  }

  /** Aborts every writer still open: nothing they wrote is published. */
  async abort(reason?: unknown): Promise<void> {
    await Promise.all([...this.#writers].map((writer) => writer.abort(reason)));
  }

  async *#decode(chunks: AsyncIterable<Buffer>): AsyncGenerator<JsonObject> {
    const { uri, format } = this.location;
    const maxRecordBytes = this.#options.maxRecordBytes ?? datasetIoDefaults.maxRecordBytes;
    if (format === 'ndjson') yield* ndjsonRecords(uri, chunks, { maxRecordBytes });
    else if (format === 'csv') {
      yield* csvRecords(uri, chunks, { maxRecordBytes, ...this.#csvColumns() });
    } else yield* jsonDocumentRecords(uri, await this.#document(chunks));
  }

  #encoder(): RecordEncoder {
    const { uri, format } = this.location;
    if (format === 'csv') return new CsvEncoder(uri, this.#csvColumns());
    return format === 'ndjson' ? new NdjsonEncoder(uri) : new JsonArrayEncoder(uri);
  }

  #csvColumns(): CsvColumns {
    const { fieldNames, csvHeader } = this.#options;
    return { ...(fieldNames && { fieldNames }), ...(csvHeader !== undefined && { header: csvHeader }) };
  }

  #document(chunks: AsyncIterable<Buffer>): Promise<JsonValue> {
    const maxDocumentBytes = this.#options.maxDocumentBytes ?? datasetIoDefaults.maxDocumentBytes;
    return readJsonDocument(this.location.uri, chunks, { maxDocumentBytes });
  }

  #requireJson(what: string): void {
    if (this.location.format !== 'json') {
      throw new DatasetUsageError(
        this.location.uri,
        `${what} is for whole JSON documents; this dataset is ${this.location.format}`,
      );
    }
  }

  #signal(signal: AbortSignal | undefined): AbortSignal {
    const signals = [this.#options.signal, signal].filter((s): s is AbortSignal => s !== undefined);
    return signals.length === 1 ? signals[0]! : AbortSignal.any(signals);
  }
}
