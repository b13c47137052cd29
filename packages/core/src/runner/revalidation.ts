import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { ClaimKeeper } from './claim-keeper.ts';
import type { LeaseKeeper } from './lease-keeper.ts';
import type { RevalidationTrigger, RunnerEvents } from './runner-events.ts';
import type { TypedEmitter } from './typed-emitter.ts';

export interface RevalidationOptions {
  readonly leases: LeaseKeeper;
  readonly claims: ClaimKeeper;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events: TypedEmitter<RunnerEvents>;
  readonly reportError: (error: Error, what: string) => void;
}

/**
 * Re-validation of every lease (one batched extension) and every claim (one renewal each)
 * after a resume. Rounds never overlap, and triggers arriving while a round waits to start
 * share it: two sources reporting the same resume cost one round, while a resume reported
 * during a round gets a round of its own (its doubt arose after the first round's calls).
 *
 * @example
 * ```ts
 * const revalidation = new Revalidation({ leases, claims, clock, logger, events, reportError });
 * await revalidation.run('resume'); // emits `leases:revalidated`
 * ```
 */
export class Revalidation {
  readonly #o: RevalidationOptions;
  #queued: Promise<void> | undefined;
  #tail: Promise<void> = Promise.resolve();

  constructor(options: RevalidationOptions) {
    this.#o = options;
  }

  /** One round after any rounds before it; never rejects. */
  run(trigger: RevalidationTrigger): Promise<void> {
    if (this.#queued) return this.#queued;
    const round = this.#tail
      .then(() => {
        this.#queued = undefined;
        return this.#round(trigger);
      })
      .catch((error: unknown) => this.#o.reportError(error as Error, 're-validation failed'));
    this.#queued = round;
    this.#tail = round;
    return round;
  }

  async #round(trigger: RevalidationTrigger): Promise<void> {
    const { clock, leases, claims } = this.#o;
    const startedMono = clock.monotonic();
    const [l, c] = await Promise.all([leases.revalidate(), claims.revalidate()]);
    const check = {
      trigger,
      leases: l.checked,
      leasesLost: l.lost,
      claims: c.checked,
      claimsLost: c.lost,
      unconfirmed: l.unconfirmed + c.unconfirmed,
      durationMs: clock.monotonic() - startedMono,
    };
    this.#o.logger.info(check, 'leases and claims re-validated');
    this.#o.events.emit('leases:revalidated', check);
  }
}
