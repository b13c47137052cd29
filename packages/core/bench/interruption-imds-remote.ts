import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./interruption-imds-process.ts', import.meta.url));

/** The IMDS stand-in running in its own process (`interruption-imds-process.ts`). */
export interface RemoteImds {
  /** The `endpoint` for `ImdsInterruptionSource`. */
  readonly url: string;
  /**
   * Serves a spot notice due `inMs` from now (`undefined`: 404 again); answers the epoch ms
   * at which the stand-in started serving it.
   */
  serve(notice: { action: 'terminate' | 'stop' | 'hibernate'; inMs: number } | undefined): Promise<number>;
  /** Requests the stand-in answered so far. */
  requests(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts the stand-in process and waits for its URL.
 *
 * @example
 * ```ts
 * const imds = await startRemoteImds();
 * const servedAt = await imds.serve({ action: 'terminate', inMs: 120_000 });
 * await imds.close();
 * ```
 */
export async function startRemoteImds(): Promise<RemoteImds> {
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const replies: ((line: Record<string, unknown>) => void)[] = [];
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => replies.shift()?.(JSON.parse(line) as Record<string, unknown>));
  const next = () => new Promise<Record<string, unknown>>((resolve) => replies.push(resolve));
  const ask = (command: object) => {
    const reply = next();
    child.stdin!.write(`${JSON.stringify(command)}\n`);
    return reply;
  };
  const first = await Promise.race([
    next(),
    exited.then(([code]) => {
      throw new Error(`IMDS stand-in process exited with code ${code} before listening`);
    }),
  ]);
  return {
    url: String(first.url),
    async serve(notice) {
      return Number((await ask({ serve: notice ?? null })).servedAt);
    },
    async requests() {
      return Number((await ask({ count: true })).requests);
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      await exited;
    },
  };
}
