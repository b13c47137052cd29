/**
 * The one-line protocol between the system-sleep hook (`systemd/system-sleep/spotjobs`) and
 * the daemon's `SleepHookSource`, over a unix socket:
 *
 * ```
 *  hook                                   daemon
 *  connect ─────────────────────────────▶ accept
 *  "pre hibernate\n" ────────────────────▶ notify(hibernate) … runner applies its policy
 *                  ◀──────────────────── "ok\n" | "error\n" | "timeout\n", close
 *  (host sleeps; then, after resume)
 *  "post hibernate\n" ───────────────────▶ notify(resume), "ok\n", close
 * ```
 *
 * The hook waits for the answer to `pre` only (bounded); `post` is fire-and-forget. A line is
 * at most `maxLineLength` bytes; anything else is answered `invalid`.
 */

/** Where the daemon listens unless told otherwise (`RuntimeDirectory=spotjobs` creates the directory). */
export const defaultSleepHookSocketPath = '/run/spotjobs/sleep-hook.sock';

/** The longest line a hook sends; longer input is refused. */
export const maxLineLength = 64;

/** systemd's second argument: what kind of sleep. */
export type SleepKind = 'suspend' | 'hibernate' | 'hybrid-sleep' | 'suspend-then-hibernate';

export interface SleepHookMessage {
  readonly phase: 'pre' | 'post';
  readonly sleep: SleepKind;
}

/** The daemon's answer to `pre`: acted on, failed (reported through `onError`), or not in time. */
export type SleepHookReply = 'ok' | 'error' | 'timeout' | 'invalid';

const kinds = new Set<string>(['suspend', 'hibernate', 'hybrid-sleep', 'suspend-then-hibernate']);

/**
 * Reads one line from the hook (without its newline); `undefined` when it is not a valid
 * message.
 *
 * @example
 * ```ts
 * parseSleepHookLine('pre hibernate'); // { phase: 'pre', sleep: 'hibernate' }
 * parseSleepHookLine('pre coffee'); // undefined
 * ```
 */
export function parseSleepHookLine(line: string): SleepHookMessage | undefined {
  const [phase, sleep, ...rest] = line.trim().split(' ');
  if (rest.length > 0 || (phase !== 'pre' && phase !== 'post') || sleep === undefined || !kinds.has(sleep))
    return undefined;
  return { phase, sleep: sleep as SleepKind };
}
