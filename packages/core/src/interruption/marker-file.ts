import { readFile, stat } from 'node:fs/promises';
import { AbortedError } from '../errors.ts';

/** What a marker file looked like at one check. */
export interface MarkerState {
  readonly exists: boolean;
  /** Changes whenever the file is rewritten, replaced or touched. */
  readonly signature: string;
  readonly mtimeMs: number;
}

const absent: MarkerState = { exists: false, signature: '', mtimeMs: 0 };

/**
 * One `stat` of the marker file: cheap enough for every second. A missing file (or
 * directory) is a state, not an error; any other failure throws.
 *
 * @example
 * ```ts
 * const before = await statMarker('/var/run/hibernate/resumed_at', signal);
 * ```
 */
export async function statMarker(path: string, signal: AbortSignal): Promise<MarkerState> {
  if (signal.aborted) throw new AbortedError({ cause: signal.reason });
  try {
    const s = await stat(path, { bigint: true });
    // Nanosecond times: two writes within one millisecond still differ.
    return {
      exists: true,
      signature: `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`,
      mtimeMs: Number(s.mtimeMs),
    };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return absent;
    throw err;
  }
}

/**
 * When the resume happened, as recorded in the marker: the hibernation agent writes epoch
 * seconds (`date +%s`); anything else falls back to the file's modification time.
 *
 * @example
 * ```ts
 * const at = await markerTime('/var/run/hibernate/resumed_at', state, signal);
 * ```
 */
export async function markerTime(path: string, state: MarkerState, signal: AbortSignal): Promise<number> {
  let content: string;
  try {
    content = await readFile(path, { encoding: 'utf8', signal });
  } catch {
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
    return state.mtimeMs; // gone again, or unreadable: the stat is all we know
  }
  const text = content.trim();
  return /^\d{9,11}$/.test(text) ? Number(text) * 1_000 : state.mtimeMs;
}
