// What the web front end and the worker agree on: the job message, where an image's blobs
// live, and its status item in the Table.

import type { TableKey } from '@spotjobs/core';
import { z } from 'zod';

/** The one job type of the example's queue. Validated by the Runner before the handler sees it. */
export const greyscaleJob = z.object({ type: z.literal('greyscale'), id: z.uuid() });
export type GreyscaleJob = z.infer<typeof greyscaleJob>;

/**
 * queued → processing → done | failed. `processing` may repeat: a redelivered message (a
 * worker died, a lease ran out) takes the image again, which is safe because the conversion
 * is deterministic and the result key is fixed.
 */
export type ImageStatus = 'queued' | 'processing' | 'done' | 'failed';

/** The status item's data. Every write is conditional on the version read before it. */
export type ImageRecord = {
  status: ImageStatus;
  width: number;
  height: number;
  /** Blob key of the upload. */
  original: string;
  /** Blob key of the greyscale image, once done. */
  result: string | null;
  /** Why it failed, once failed. */
  error: string | null;
  updatedAt: string;
};

export const imageKey = (id: string): TableKey => ({ pk: `image#${id}`, sk: 'status' });
export const originalBlobKey = (id: string): string => `originals/${id}.png`;
export const resultBlobKey = (id: string): string => `results/${id}.png`;
