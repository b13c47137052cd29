import { pipeline } from 'node:stream/promises';
import { type BlobStore, NotFoundError } from '@spotjobs/core';
import { byteLimit } from '../staging/byte-limit.ts';

/** A request file read with a size cap. */
export type RequestBody =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'too-large'; readonly limit: number }
  | { readonly kind: 'not-utf8' };

/**
 * Reads a request object as UTF-8 text, never more than `maxBytes` (the object may have
 * grown since its event: the stream is cut at the first byte too many). A missing object is
 * `missing` (answered already, or withdrawn), not an error.
 *
 * @example
 * ```ts
 * const body = await readRequestBody(blobs, 'home/alice/demo.cf-create', 16_384, signal);
 * if (body.kind === 'text') JSON.parse(body.text);
 * ```
 */
export async function readRequestBody(
  blobs: BlobStore,
  key: string,
  maxBytes: number,
  signal: AbortSignal,
): Promise<RequestBody> {
  let object: Awaited<ReturnType<BlobStore['get']>>;
  try {
    object = await blobs.get(key, signal);
  } catch (err) {
    if (err instanceof NotFoundError) return { kind: 'missing' };
    throw err;
  }
  if (object.info.size > maxBytes) {
    object.body.destroy();
    return { kind: 'too-large', limit: maxBytes };
  }
  const chunks: Buffer[] = [];
  try {
    await pipeline(
      object.body,
      byteLimit(maxBytes),
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) chunks.push(chunk);
      },
      { signal },
    );
  } catch (err) {
    if ((err as { code?: unknown }).code === 'BYTE_LIMIT') return { kind: 'too-large', limit: maxBytes };
    throw err;
  }
  try {
    return { kind: 'text', text: new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)) };
  } catch {
    return { kind: 'not-utf8' };
  }
}
