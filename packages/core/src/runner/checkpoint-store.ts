import { text } from 'node:stream/consumers';
import { isAbortError, NotFoundError, ValidationError } from '../errors.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import type { JsonValue } from '../ports/table.ts';
import { jsonProblem } from '../ports/validation.ts';

/** Who wrote a checkpoint: orders the checkpoints of one message. */
export interface CheckpointWriter {
  /** The writer's claim fencing token, 0 without a claim. */
  readonly token: number;
  /** The writer's delivery number (the queue's receive count). */
  readonly attempt: number;
}

/** A checkpoint as stored. */
export interface StoredCheckpoint extends CheckpointWriter {
  readonly state: JsonValue;
  /** Epoch ms of the write. */
  readonly savedAt: number;
}

export interface CheckpointStoreOptions {
  readonly blobs: BlobStore;
  /** Part of every key, so queues sharing a bucket keep apart. */
  readonly queueName: string;
  /** Largest serialised state accepted. */
  readonly maxBytes: number;
  /** Default `checkpoints/`. */
  readonly prefix?: string;
}

const format = 'spotjobs.checkpoint/1';
const digits = 15;

/**
 * Job checkpoints in a `BlobStore`: one object per writer, under a prefix per message id
 * (stable across redeliveries), named so that byte order is fencing order:
 *
 * ```
 *  checkpoints/<queue>/<message id>/t<claim token>-a<attempt>.json   (zero-padded)
 * ```
 *
 * `load` takes the last key, so a stale writer (a worker frozen past its lease that wakes
 * and writes) can only add an object that sorts before its successor's: it never hides a
 * newer state, and no conditional write is needed (S3 has none that fits, fauxqs none at
 * all). Each writer overwrites only its own object; `clear` deletes them all once the job
 * is done.
 *
 * @example
 * ```ts
 * const checkpoints = new CheckpointStore({ blobs, queueName: 'builds', maxBytes: 1_048_576 });
 * await checkpoints.save(message.id, { token: 0, attempt: 2 }, { step: 3 });
 * (await checkpoints.load(message.id))?.state; // { step: 3 }
 * ```
 */
export class CheckpointStore {
  readonly #blobs: BlobStore;
  readonly #queue: string;
  readonly #prefix: string;
  readonly maxBytes: number;

  constructor(options: CheckpointStoreOptions) {
    this.#blobs = options.blobs;
    this.#queue = segment(options.queueName);
    this.#prefix = options.prefix ?? 'checkpoints/';
    this.maxBytes = options.maxBytes;
  }

  /** The key prefix holding every checkpoint of `messageId`. */
  prefixOf(messageId: string): string {
    return `${this.#prefix}${this.#queue}/${segment(messageId)}/`;
  }

  keyOf(messageId: string, writer: CheckpointWriter): string {
    return `${this.prefixOf(messageId)}t${pad(writer.token)}-a${pad(writer.attempt)}.json`;
  }

  /**
   * Serialises `state` (throws `ValidationError` unless it is JSON within `maxBytes`), so a
   * caller can fail fast before any I/O.
   */
  serialise(messageId: string, writer: CheckpointWriter, state: unknown, savedAt: number): string {
    const problem = jsonProblem(state, 'state');
    if (problem) throw new ValidationError('invalid checkpoint', [problem]);
    const stateJson = JSON.stringify(state);
    const bytes = Buffer.byteLength(stateJson);
    if (bytes > this.maxBytes) {
      throw new ValidationError('invalid checkpoint', [
        `state is ${bytes} bytes serialised, more than ${this.maxBytes} (maxCheckpointBytes)`,
      ]);
    }
    const { token, attempt } = writer;
    return `{"format":"${format}","messageId":${JSON.stringify(messageId)},"token":${token},"attempt":${attempt},"savedAt":${savedAt},"state":${stateJson}}`;
  }

  /** Writes a body from `serialise`; answers its size in bytes. */
  async save(
    messageId: string,
    writer: CheckpointWriter,
    body: string,
    signal?: AbortSignal,
  ): Promise<number> {
    await this.#blobs.put(this.keyOf(messageId, writer), body, { contentType: 'application/json' }, signal);
    return Buffer.byteLength(body);
  }

  /** The newest checkpoint of `messageId` by fencing order, or undefined. */
  async load(messageId: string, signal?: AbortSignal): Promise<StoredCheckpoint | undefined> {
    const keys = await this.#keys(messageId, signal);
    // Newest first; an unreadable object (deleted meanwhile, foreign) falls back to the next.
    for (const key of keys.reverse()) {
      let body: string;
      try {
        body = await text((await this.#blobs.get(key, signal)).body);
      } catch (error) {
        if (error instanceof NotFoundError) continue;
        throw error;
      }
      const stored = parse(body);
      if (stored) return stored;
    }
    return undefined;
  }

  /** Deletes every checkpoint of `messageId`. */
  async clear(messageId: string, signal?: AbortSignal): Promise<number> {
    const keys = await this.#keys(messageId, signal);
    for (const key of keys) {
      try {
        await this.#blobs.delete(key, signal);
      } catch (error) {
        if (isAbortError(error)) throw error;
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
    return keys.length;
  }

  async #keys(messageId: string, signal?: AbortSignal): Promise<string[]> {
    const prefix = this.prefixOf(messageId);
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#blobs.list({ prefix, cursor }, signal);
      keys.push(...page.items.map((item) => item.key));
      cursor = page.cursor;
    } while (cursor);
    return keys.filter((key) => key.endsWith('.json')).sort();
  }
}

function parse(body: string): StoredCheckpoint | undefined {
  try {
    const value = JSON.parse(body) as Partial<StoredCheckpoint> & { format?: unknown };
    if (value.format !== format || !('state' in value)) return undefined;
    return {
      token: Number(value.token ?? 0),
      attempt: Number(value.attempt ?? 0),
      savedAt: Number(value.savedAt ?? 0),
      state: value.state as JsonValue,
    };
  } catch {
    return undefined;
  }
}

function pad(n: number): string {
  return String(n).padStart(digits, '0');
}

/** A key segment from any name: percent-encoded, never `.` or `..` (blob keys refuse them). */
function segment(name: string): string {
  const encoded = encodeURIComponent(name);
  return encoded === '.' || encoded === '..' ? encoded.replaceAll('.', '%2E') : encoded;
}
