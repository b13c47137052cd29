// sd_notify(3) for a Node daemon run by systemd (`Type=notify`): READY=1, STATUS=, STOPPING=1,
// EXTEND_TIMEOUT_USEC= and the WATCHDOG=1 pings.
//
// How the message gets there. The protocol is one datagram on the AF_UNIX SOCK_DGRAM socket
// named by $NOTIFY_SOCKET, and Node cannot open such a socket: `node:dgram` is UDP only and
// `node:net` unix sockets are streams (libuv has no unix datagrams). The choices:
// - a native addon (`unix-dgram`, `sd-notify` on npm): compiled by node-gyp at install time (no
//   prebuilt binaries; `sd-notify` also needs libsystemd-dev), so every host needs a toolchain
//   or a per-ABI build to ship, and pnpm must be allowed to run install scripts;
// - an FFI package (`koffi`) calling socket(2)/sendto(2): prebuilt, but a large dependency to
//   send a few bytes a minute;
// - `systemd-notify`, the sender systemd ships with itself (so it is there wherever
//   $NOTIFY_SOCKET is set, systemd 249 on Ubuntu 22.04 and 255 on 24.04 alike). Chosen.
//
// A short-lived child brings two questions, both answered by what systemd-notify does:
// - Whose message is it? systemd-notify sends with SCM_CREDENTIALS naming its *parent* (this
//   process) when it may (CAP_SYS_ADMIN); otherwise, or when that fails, with its own PID, and
//   then systemd accepts it only with `NotifyAccess=all` (the units set it).
// - The race: systemd finds the unit of a message by the sender's PID (/proc/PID/cgroup), so a
//   sender that has already exited cannot be attributed and its message is dropped. Since
//   systemd 246 systemd-notify waits, after the message, on a barrier (BARRIER=1 with a pipe fd
//   that systemd closes once it has processed everything before it), and exits only then.
//   We never pass --no-block, so a send has resolved only after systemd has read the message.
//   Never --pid either: that would also send MAINPID= and move the unit's main PID.
// Messages go one at a time, in order (a child per message could overtake another), each
// bounded by `timeoutMs`. The cost, a process spawn per message, is a few milliseconds every
// WatchdogSec/2.
//
// Failures to notify are logged, never thrown: a daemon must not crash on its way down because
// STOPPING=1 could not be sent; a READY=1 that never arrives shows as systemd's start timeout,
// with the reason in the log just before it.
import { execFile } from 'node:child_process';
import { BackendError, ValidationError } from '../errors.ts';
import type { Clock, Timer } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import { integerProblem, throwIfProblems } from '../ports/validation.ts';
import { silentLogger } from './create-logger.ts';

/** Sends one notification (its `NAME=value` fields) and resolves once it was delivered. */
export type SystemdNotifySend = (fields: readonly string[], signal: AbortSignal) => Promise<void>;

export interface SystemdNotifierOptions {
  /** Where failures to notify and watchdog skips are logged. Default: silent. */
  readonly logger?: Logger;
  /** The sender binary, run with the fields as arguments. Default `systemd-notify` (on PATH). */
  readonly command?: string;
  /** Replaces the sender (tests). Default: runs `command`. */
  readonly send?: SystemdNotifySend;
  /** A send still running after this is killed and logged as failed. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Drives the watchdog timer (tests). Default: real, unref'd timers. */
  readonly clock?: Clock;
  /** The PID that WATCHDOG_PID must name for the watchdog to be ours. Default `process.pid`. */
  readonly pid?: number;
}

export interface SystemdNotifier {
  /** Whether systemd listens ($NOTIFY_SOCKET set and valid); when false every method is a no-op. */
  readonly enabled: boolean;
  /** The watchdog interval (WatchdogSec) when systemd runs one for this process, else `undefined`. */
  readonly watchdogMs: number | undefined;
  /** READY=1 (and STATUS=): start-up is complete; `Type=notify` units count as started from here. */
  ready(status?: string): Promise<void>;
  /** STATUS=: a line shown by `systemctl status`. */
  status(text: string): Promise<void>;
  /** STOPPING=1 (and STATUS=): the daemon has begun to shut down. */
  stopping(status?: string): Promise<void>;
  /** EXTEND_TIMEOUT_USEC=: the current start or stop timeout is at least `ms` away from now. */
  extendTimeout(ms: number): Promise<void>;
  /**
   * Pings WATCHDOG=1 at once and then every `watchdogMs / 2` while `healthy()` returns true
   * (a throw counts as false): a stuck event loop or an unhealthy daemon stops the pings, and
   * systemd restarts the service after WatchdogSec. Only when systemd's watchdog is on and
   * WATCHDOG_PID (if set) names this process. Returns the function that stops the pings.
   */
  startWatchdog(healthy: () => boolean): () => void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** systemd reads at most 4 KiB per message; a status line far shorter than that is plenty. */
const MAX_STATUS_CHARS = 1_024;

/**
 * A notifier for the systemd service manager, configured from `env` ($NOTIFY_SOCKET,
 * $WATCHDOG_USEC, $WATCHDOG_PID). Without $NOTIFY_SOCKET (not run by systemd, or a unit of a
 * type other than notify) it is disabled and every call does nothing.
 *
 * @example
 * ```ts
 * const notifier = systemdNotifier(process.env, { logger });
 * await runner.start();
 * await notifier.ready('polling');
 * const stopPings = notifier.startWatchdog(() => runner.state === 'RUNNING');
 * // on SIGTERM:
 * await notifier.stopping('draining');
 * await runner.stop();
 * stopPings();
 * ```
 */
export function systemdNotifier(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: SystemdNotifierOptions = {},
): SystemdNotifier {
  const logger = options.logger ?? silentLogger;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  throwIfProblems('invalid systemd notifier options', [
    integerProblem('timeoutMs', timeoutMs, 1, 600_000),
    options.command === undefined || (typeof options.command === 'string' && options.command !== '')
      ? undefined
      : 'command must be a non-empty string',
  ]);
  const socket = notifySocket(env.NOTIFY_SOCKET, logger);
  const watchdogMs =
    socket === undefined ? undefined : watchdogInterval(env, options.pid ?? process.pid, logger);
  const send =
    socket === undefined
      ? undefined
      : (options.send ?? spawnSystemdNotify(options.command ?? 'systemd-notify', socket, env.PATH));
  const schedule = options.clock ? options.clock.setTimer.bind(options.clock) : unrefTimer;

  // One message at a time, in order; a failed one is logged and the next goes on. Disabled,
  // nothing is sent, but arguments are still checked: a bad call fails in development too.
  let tail: Promise<void> = Promise.resolve();
  const notify = (fields: readonly string[]): Promise<void> => {
    if (send === undefined) return Promise.resolve();
    const sent = tail.then(async () => {
      try {
        await send(fields, AbortSignal.timeout(timeoutMs));
      } catch (err) {
        logger.warn({ err, fields }, 'could not notify systemd');
      }
    });
    tail = sent;
    return sent;
  };
  // Arguments are checked before anything is queued: a bad one rejects, and sends nothing.
  const message = (fields: () => string[]): Promise<void> => {
    try {
      return notify(fields());
    } catch (err) {
      return Promise.reject(err);
    }
  };
  const withStatus = (field: string, status: string | undefined): string[] =>
    status === undefined ? [field] : [field, `STATUS=${statusText(status)}`];

  return {
    enabled: send !== undefined,
    watchdogMs,
    ready: (status) => message(() => withStatus('READY=1', status)),
    status: (text) => message(() => [`STATUS=${statusText(text)}`]),
    stopping: (status) => message(() => withStatus('STOPPING=1', status)),
    extendTimeout: (ms) =>
      message(() => {
        // systemd takes microseconds: whole milliseconds, up to a day, are plenty.
        throwIfProblems('invalid timeout extension', [integerProblem('ms', ms, 1, 86_400_000)]);
        return [`EXTEND_TIMEOUT_USEC=${ms * 1000}`];
      }),
    startWatchdog(healthy) {
      if (watchdogMs === undefined) return () => {};
      let stopped = false;
      let inFlight = false;
      let unhealthy = false;
      let timer: Timer | undefined;
      const tick = (): void => {
        if (stopped) return;
        timer = schedule(Math.max(1, Math.floor(watchdogMs / 2)), tick);
        if (!isHealthy(healthy)) {
          if (!unhealthy) logger.warn({ watchdogMs }, 'unhealthy: not pinging the systemd watchdog');
          unhealthy = true;
          return;
        }
        if (unhealthy) logger.info('healthy again: pinging the systemd watchdog');
        unhealthy = false;
        // A ping still on its way (systemd busy) is not doubled: pings would pile up behind it.
        if (inFlight) return;
        inFlight = true;
        void notify(['WATCHDOG=1']).finally(() => {
          inFlight = false;
        });
      };
      tick();
      return () => {
        stopped = true;
        timer?.cancel();
      };
    },
  };
}

/** $NOTIFY_SOCKET as systemd-notify accepts it: a path, an abstract name (`@...`), or vsock. */
function notifySocket(value: string | undefined, logger: Logger): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^[/@]/.test(value) || value.startsWith('vsock:')) return value;
  logger.warn(
    { NOTIFY_SOCKET: value },
    'NOTIFY_SOCKET is neither a path nor an abstract socket: not notifying',
  );
  return undefined;
}

/** WatchdogSec in ms when the watchdog is on and meant for `pid` (sd_watchdog_enabled's rules). */
function watchdogInterval(
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
  logger: Logger,
): number | undefined {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || usec === '') return undefined;
  if (!/^[1-9][0-9]{0,15}$/.test(usec)) {
    logger.warn({ WATCHDOG_USEC: usec }, 'WATCHDOG_USEC is not a positive integer: watchdog off');
    return undefined;
  }
  const watchdogPid = env.WATCHDOG_PID;
  if (watchdogPid !== undefined && watchdogPid !== '' && watchdogPid !== String(pid)) {
    // The watchdog is another process's (a parent that exec'd us without clearing it, say).
    logger.debug({ WATCHDOG_PID: watchdogPid, pid }, 'systemd watchdog is for another process');
    return undefined;
  }
  return Math.max(1, Math.floor(Number(usec) / 1000));
}

/** One line, so a status can never smuggle in another field (`\nMAINPID=1`). */
function statusText(text: string): string {
  if (typeof text !== 'string') throw new ValidationError('invalid status', ['status must be a string']);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > MAX_STATUS_CHARS ? `${line.slice(0, MAX_STATUS_CHARS - 1)}…` : line;
}

function isHealthy(healthy: () => boolean): boolean {
  try {
    return healthy() === true;
  } catch {
    return false;
  }
}

function unrefTimer(ms: number, fn: () => void): Timer {
  const handle = setTimeout(fn, ms);
  handle.unref();
  return { cancel: () => clearTimeout(handle) };
}

/**
 * Sends through `systemd-notify FIELD=value...` with only NOTIFY_SOCKET (and PATH to find the
 * binary) in its environment. It resolves when systemd-notify exits 0, which (barrier, above)
 * is after systemd has read the message.
 */
function spawnSystemdNotify(command: string, socket: string, path: string | undefined): SystemdNotifySend {
  const env = {
    NOTIFY_SOCKET: socket,
    PATH: path || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  };
  return (fields, signal) =>
    new Promise<void>((resolve, reject) => {
      // Every field starts with a capital letter, so none can be taken for an option.
      execFile(
        command,
        [...fields],
        { env, signal, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, encoding: 'utf8' },
        (err, _stdout, stderr) => {
          if (!err) return resolve();
          const detail = stderr.trim();
          reject(new BackendError(`${command} failed${detail ? `: ${detail}` : ''}`, true, { cause: err }));
        },
      );
    });
}
