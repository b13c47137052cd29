import type { BlobStore, Clock, Logger } from '@spotjobs/core';
import type { BuildService } from '../build/build-service.ts';
import type { Authentication } from './auth.ts';

/** What the endpoint handlers share; `CompileApi` builds it once. */
export interface ApiContext {
  readonly builds: BuildService;
  /** Where artifacts and logs are; only ever handed out as presigned GET URLs. */
  readonly blobs: BlobStore;
  readonly presignSeconds: number;
  /** Status, artifact and log reads of an existing build without credentials. */
  readonly openReads: boolean;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The authenticated principal's stored form, or undefined for an anonymous request. */
export function requesterOf(auth: Authentication): string | undefined {
  return auth.status === 'authenticated' ? `${auth.principal.kind}:${auth.principal.id}` : undefined;
}
