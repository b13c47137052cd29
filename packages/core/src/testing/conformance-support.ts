// Small helpers the port conformance suites share. Waiting for an emulator is done with
// vitest's own `vi.waitFor` / `expect.poll`; what is here is what vitest lacks.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

/**
 * How long one conformance test may take. Set on every `it` so a suite behaves the same under
 * a caller's config whose default timeout (5 s) is too short for real visibility timeouts.
 */
export const conformanceTestTimeoutMs = 60_000;

/**
 * Resolves or rejects as `promise` does, or rejects when it has not settled after `ms`.
 * Used to tell "promptly" from "after a 20 s long poll" without asserting a wall-clock speed:
 * the bound is far above any normal latency and far below the wait being cut short.
 *
 * @example
 * ```ts
 * await expect(settlesWithin(receiving, 10_000, 'aborted receive')).rejects.toBeInstanceOf(AbortedError);
 * ```
 */
export function settlesWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Reads a stream to its end.
 *
 * @example
 * ```ts
 * const bytes = await readAll((await blobs.get('a.bin')).body);
 * ```
 */
export async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/**
 * Hex sha256 of `data`, to compare large bodies without printing them on failure.
 *
 * @example
 * ```ts
 * expect(sha256(await readAll(object.body))).toBe(sha256(sent));
 * ```
 */
export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A promise the test resolves by hand, to hold a callback (such as `consume`'s `capacity`)
 * until the test is ready; it rejects when `signal` aborts so a stopped caller is not stuck.
 *
 * @example
 * ```ts
 * const slots = new Gate();
 * const capacity = async (signal: AbortSignal) => { await slots.wait(signal); return 10; };
 * slots.open();
 * ```
 */
export class Gate {
  #open!: () => void;
  readonly #opened = new Promise<void>((resolve) => {
    this.#open = resolve;
  });

  open(): void {
    this.#open();
  }

  wait(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      void this.#opened.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}
