import type { ClaimStore, Clock, Logger, Queue } from '@spotjobs/core';
import type { BuildPolicy } from './build-policy.ts';
import type { BuildRepository } from './build-repository.ts';
import type { BuilderProfile } from './builder-profile.ts';

/** What the state-machine functions work with; `BuildService` assembles it. */
export interface BuildContext {
  readonly repository: BuildRepository;
  readonly queue: Queue;
  readonly claims: ClaimStore;
  readonly clock: Clock;
  readonly profile: BuilderProfile;
  readonly policy: BuildPolicy;
  readonly logger: Logger;
}
