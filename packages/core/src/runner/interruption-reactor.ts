import { isAbortError } from '../errors.ts';
import type { Clock, Timer } from '../ports/clock.ts';
import type { InterruptionNotice } from '../ports/interruption-source.ts';
import type { Logger } from '../ports/logger.ts';
import type { CompiledInterruptions } from './interruption-options.ts';
import type { InterruptionReaction, RevalidationTrigger, RunnerEvents } from './runner-events.ts';
import type { TypedEmitter } from './typed-emitter.ts';

/** Why polling is paused; polling runs only while no hold is left. */
export type PauseHold = 'manual' | 'rebalance' | 'hibernate';

/** What the reactor asks of the runner. Every promise resolves (never rejects) once done. */
export interface InterruptionTarget {
  /** The runner is stopped or failed (or never ran): notices change nothing any more. */
  readonly finished: boolean;
  /** Stop with this deadline (epoch ms); resolves once every job held now is settled. */
  stop(deadline: number, drainMs: number): Promise<void>;
  pause(hold: Exclude<PauseHold, 'manual'>): void;
  unpause(hold: Exclude<PauseHold, 'manual'>): void;
  /** Interrupt every job (`graceMs` to checkpoint) and release its message at once. */
  releaseAll(graceMs: number): Promise<void>;
  /** Extend every lease and claim to `holdSeconds`. */
  holdAll(holdSeconds: number): Promise<void>;
  /** Re-validate every lease and claim. */
  revalidate(trigger: RevalidationTrigger): Promise<void>;
}

export interface InterruptionReactorOptions {
  readonly config: CompiledInterruptions;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events: TypedEmitter<RunnerEvents>;
  readonly target: InterruptionTarget;
  readonly reportError: (error: Error, what: string) => void;
}

interface Hibernation {
  /** The policy being applied (the sleep hook's `pre` waits for it). */
  readonly applied: Promise<void>;
  /** Lifts the pause if no resume comes (awake time: the monotonic clock stops while asleep). */
  readonly timer: Timer;
}

/** Distinct notices remembered for de-duplication (sources already send each once). */
const rememberedNotices = 256;
/** How long `stop()` waits for sources to wind down. */
const watchStopMs = 2_000;

/**
 * Turns interruption notices into runner reactions, per the runner's `interruptions`
 * options:
 *
 * | notice | reaction | the notify promise (the sleep hook's ack) resolves |
 * |---|---|---|
 * | terminate, stop | `stop`: `runner.stop({ deadline: at - releaseMarginMs, graceMs: drainMs })` | once every job is settled |
 * | rebalance | `pause` (polling); running jobs finish | at once |
 * | hibernate | `hold` or `release` per policy, polling paused until the resume | once the policy is applied |
 * | resume | `revalidate` every lease and claim, then lift a hibernate pause | once re-validated |
 *
 * Each distinct notice (source, kind, time) is logged and emitted once. A hibernate notice
 * while the policy is already applied (two sources for one sleep) only waits for it.
 *
 * @example
 * ```ts
 * const reactor = new InterruptionReactor({ config, clock, logger, events, target, reportError });
 * reactor.start();      // watches config.sources
 * await reactor.stop(); // at shutdown
 * ```
 */
export class InterruptionReactor {
  readonly #o: InterruptionReactorOptions;
  readonly #watching = new AbortController();
  readonly #watches: Promise<void>[] = [];
  readonly #seen = new Map<string, Promise<void>>();
  #hibernation: Hibernation | undefined;

  constructor(options: InterruptionReactorOptions) {
    this.#o = options;
  }

  /** A hibernate pause is in force (waiting for a resume). */
  get hibernating(): boolean {
    return this.#hibernation !== undefined;
  }

  /** Starts watching every source. */
  start(): void {
    for (const source of this.#o.config.sources) {
      const watch = (async () => {
        try {
          await source.watch({
            notify: (notice) => this.notify(notice),
            onError: (error) => this.#o.reportError(error, `interruption source ${source.name} failed`),
            signal: this.#watching.signal,
          });
        } catch (error) {
          if (!(isAbortError(error) && this.#watching.signal.aborted)) {
            this.#o.reportError(error as Error, `interruption source ${source.name} stopped`);
          }
        }
      })();
      this.#watches.push(watch);
    }
  }

  /** Stops watching; waits (briefly) for the sources to wind down; cancels the hibernate timer. */
  async stop(): Promise<void> {
    this.#watching.abort();
    this.#hibernation?.timer.cancel();
    if (this.#watches.length === 0) return;
    const bound = new AbortController();
    await Promise.race([
      Promise.all(this.#watches),
      this.#o.clock.sleep(watchStopMs, bound.signal).catch(() => {}),
    ]);
    bound.abort();
  }

  /** Reacts to one notice; the promise resolves once the reaction is complete. */
  notify(notice: InterruptionNotice): Promise<void> {
    const id = `${notice.source}|${notice.kind}|${notice.at}`;
    const seen = this.#seen.get(id);
    if (seen) return seen;
    const reacting = this.#react(notice);
    this.#seen.set(id, reacting);
    if (this.#seen.size > rememberedNotices) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return reacting;
  }

  /** A resume seen by the runner itself (the lease keeper saw the wall clock jump). */
  resumed(trigger: RevalidationTrigger): Promise<void> {
    return this.#resume(trigger);
  }

  async #react(notice: InterruptionNotice): Promise<void> {
    const { clock, logger, events, target, config } = this.#o;
    const startedMono = clock.monotonic();
    const reaction = this.#reactionTo(notice);
    logger.info(
      { kind: notice.kind, source: notice.source, at: notice.at, inMs: notice.at - clock.now(), reaction },
      'interruption notice',
    );
    events.emit('interruption', notice, reaction);
    try {
      switch (reaction) {
        case 'stop':
          await target.stop(notice.at - config.releaseMarginMs, config.drainMs);
          break;
        case 'pause':
          target.pause('rebalance');
          break;
        case 'hold':
        case 'release':
          await this.#hibernate();
          break;
        case 'revalidate':
          await this.#resume('resume');
          break;
        case 'ignored':
          if (notice.kind === 'hibernate' && this.#hibernation) await this.#hibernation.applied;
          return;
      }
    } catch (error) {
      this.#o.reportError(error as Error, `reacting to a ${notice.kind} notice failed`);
      return;
    }
    const latencyMs = clock.monotonic() - startedMono;
    logger.info({ kind: notice.kind, source: notice.source, reaction, latencyMs }, 'interruption handled');
    events.emit('interruption:handled', { kind: notice.kind, source: notice.source, reaction, latencyMs });
  }

  #reactionTo(notice: InterruptionNotice): InterruptionReaction {
    if (this.#o.target.finished) return 'ignored';
    switch (notice.kind) {
      case 'terminate':
      case 'stop':
        return 'stop';
      case 'rebalance':
        return 'pause';
      case 'hibernate':
        return this.#hibernation ? 'ignored' : this.#o.config.hibernate.policy;
      case 'resume':
        return 'revalidate';
    }
  }

  #hibernate(): Promise<void> {
    const { config, target, clock, logger } = this.#o;
    const policy = config.hibernate;
    target.pause('hibernate');
    const applied =
      policy.policy === 'hold' ? target.holdAll(policy.holdSeconds) : target.releaseAll(policy.graceMs);
    const timer = clock.setTimer(policy.resumeAfterMs, () => {
      logger.warn(
        { resumeAfterMs: policy.resumeAfterMs },
        'no resume after a hibernate notice: assuming the host stayed up',
      );
      void this.#resume('hibernate-timeout');
    });
    this.#hibernation = { applied, timer };
    return applied;
  }

  /** Re-validates, then lifts a hibernate pause (after the policy was applied). */
  #resume(trigger: RevalidationTrigger): Promise<void> {
    const hibernation = this.#hibernation;
    hibernation?.timer.cancel();
    const run = async () => {
      await this.#o.target.revalidate(trigger);
      if (hibernation) {
        await hibernation.applied;
        if (this.#hibernation === hibernation) {
          this.#hibernation = undefined;
          this.#o.target.unpause('hibernate');
        }
      }
    };
    return run();
  }
}
