import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '@spotjobs/core';
import { RendezvousError } from '../run/runner-errors.ts';
import type { NodeIdentity } from './node-identity.ts';
import { type DoneAnswer, doneAnswerSchema, RendezvousPaths } from './rendezvous-protocol.ts';
import { backoffDelayMs, type RetryBackoff, registrationBackoff } from './retry-backoff.ts';

export interface RendezvousClientOptions {
  readonly mainAddress: string;
  readonly port: number;
  readonly token: string;
  /** This child's node index. */
  readonly node: number;
  readonly logger: Logger;
  readonly backoff?: RetryBackoff;
}

/** The main node's answer to a registration. */
export type JoinOutcome =
  | { readonly joined: true }
  | { readonly joined: false; readonly exitCode: number; readonly reason: string };

// While the main node is unreachable after joining, ask again this often.
const UNREACHABLE_RETRY_MS = 200;

/**
 * A child node's side of the rendezvous (protocol in `rendezvous-protocol.ts`).
 *
 * @example
 * ```ts
 * const client = new RendezvousClient({ mainAddress, port: 7650, token, node: 3, logger });
 * await client.join({ address: '10.0.0.8', slots: 4 }, { timeoutMs: 600_000, signal });
 * const { exitCode } = await client.waitForDone({ donePollMs: 20_000, mainGoneMs: 10_000, signal });
 * await client.reportFinished(exitCode);
 * ```
 */
export class RendezvousClient {
  readonly #options: RendezvousClientOptions;
  readonly #base: string;

  constructor(options: RendezvousClientOptions) {
    this.#options = options;
    this.#base = `http://${options.mainAddress}:${options.port}`;
  }

  /**
   * Registers this node, retrying with exponential backoff and jitter while the main node is
   * not up yet (Batch starts it first, but its runner may still be staging), for `timeoutMs`
   * in all. Rejects with `RendezvousError` when the main node refuses this node (wrong token,
   * closed rendezvous, clashing address) or never answers.
   */
  async join(
    identity: NodeIdentity,
    options: { timeoutMs: number; signal?: AbortSignal; failure?: string },
  ): Promise<JoinOutcome> {
    const deadline = performance.now() + options.timeoutMs;
    const body = JSON.stringify({
      node: this.#options.node,
      address: identity.address,
      slots: identity.slots,
      ...(options.failure === undefined ? {} : { failure: options.failure }),
    });
    let lastProblem = 'no answer';
    for (let attempt = 1; ; attempt++) {
      options.signal?.throwIfAborted();
      const left = deadline - performance.now();
      if (left <= 0) break;
      try {
        const res = await this.#fetch(RendezvousPaths.register, {
          method: 'POST',
          body,
          signal: timeoutSignal(Math.min(left, 10_000), options.signal),
        });
        const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
        if (res.status === 200) {
          if (answer.joined === true) return { joined: true };
          const exitCode = typeof answer.exitCode === 'number' ? answer.exitCode : 0;
          return { joined: false, exitCode, reason: 'the job had already finished' };
        }
        if (res.status >= 400 && res.status < 500)
          throw new RendezvousError(
            `main node ${this.#options.mainAddress} refused node ${this.#options.node}: ${String(answer.error ?? res.status)}`,
          );
        lastProblem = `HTTP ${res.status}`;
      } catch (err) {
        if (err instanceof RendezvousError || options.signal?.aborted) throw err;
        lastProblem = describeNetworkError(err);
      }
      const wait = Math.min(
        backoffDelayMs(attempt, this.#options.backoff ?? registrationBackoff),
        deadline - performance.now(),
      );
      if (wait > 0) await delay(wait, undefined, { signal: options.signal });
      if (attempt === 1 || attempt % 10 === 0)
        this.#options.logger.info(
          { attempt, mainAddress: this.#options.mainAddress, problem: lastProblem },
          'main node not reachable yet; retrying',
        );
    }
    throw new RendezvousError(
      `main node ${this.#options.mainAddress}:${this.#options.port} did not accept node ${this.#options.node} within ${Math.round(options.timeoutMs / 1000)} s (last: ${lastProblem})`,
    );
  }

  /**
   * Long-polls the main node until it says the job is done, and resolves with its exit code.
   * Rejects with `RendezvousError` when every request fails for `mainGoneMs` in a row (the
   * main node died or vanished without telling), or when the main node no longer knows us.
   */
  async waitForDone(options: {
    donePollMs: number;
    mainGoneMs: number;
    signal?: AbortSignal;
  }): Promise<Extract<DoneAnswer, { done: true }>> {
    let failingSince: number | undefined;
    let lastProblem = '';
    const path = `${RendezvousPaths.done}?node=${this.#options.node}`;
    while (true) {
      options.signal?.throwIfAborted();
      try {
        const res = await this.#fetch(path, {
          method: 'GET',
          // The server answers within donePollMs; longer means the network or the host is gone.
          signal: timeoutSignal(options.donePollMs + 5000, options.signal),
        });
        const json: unknown = await res.json().catch(() => undefined);
        if (res.status === 200) {
          const answer = doneAnswerSchema.safeParse(json);
          if (answer.success) {
            failingSince = undefined;
            if (answer.data.done) return answer.data;
            continue;
          }
          lastProblem = 'malformed answer';
        } else if (res.status >= 400 && res.status < 500) {
          throw new RendezvousError(
            `main node ${this.#options.mainAddress} no longer accepts node ${this.#options.node}: ${String((json as { error?: unknown })?.error ?? res.status)}`,
          );
        } else lastProblem = `HTTP ${res.status}`;
      } catch (err) {
        if (err instanceof RendezvousError || options.signal?.aborted) throw err;
        lastProblem = describeNetworkError(err);
      }
      const now = performance.now();
      failingSince ??= now;
      if (now - failingSince >= options.mainGoneMs)
        throw new RendezvousError(
          `main node ${this.#options.mainAddress}:${this.#options.port} unreachable for ${Math.round((now - failingSince) / 1000)} s (${lastProblem}): it stopped without telling this node`,
        );
      await delay(UNREACHABLE_RETRY_MS, undefined, { signal: options.signal });
    }
  }

  /** Tells the main node this child is done (best effort: a few quick tries, never throws). */
  async reportFinished(exitCode: number, error?: string): Promise<boolean> {
    const body = JSON.stringify({
      node: this.#options.node,
      exitCode,
      ...(error ? { error: error.slice(0, 2000) } : {}),
    });
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const res = await this.#fetch(RendezvousPaths.finished, {
          method: 'POST',
          body,
          signal: AbortSignal.timeout(2000),
        });
        await res.body?.cancel();
        if (res.ok) return true;
      } catch {
        // The main node may be gone already; that is fine at this point.
      }
      await delay(100 * attempt);
    }
    return false;
  }

  #fetch(path: string, init: { method: string; body?: string; signal: AbortSignal }): Promise<Response> {
    return fetch(this.#base + path, {
      ...init,
      headers: { authorization: `Bearer ${this.#options.token}`, 'content-type': 'application/json' },
    });
  }
}

function timeoutSignal(ms: number, signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(Math.max(1, Math.round(ms)));
  return signal ? AbortSignal.any([timeout, signal]) : timeout;
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  return err instanceof Error ? err.message : String(err);
}
