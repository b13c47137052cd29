import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Clock } from '../ports/clock.ts';
import type { InterruptionSource, WatchOptions } from '../ports/interruption-source.ts';
import { integerProblem, throwIfProblems } from '../ports/validation.ts';
import { systemClock } from '../time/system-clock.ts';
import { asError, deliverNotice } from './deliver-notice.ts';
import {
  defaultSleepHookSocketPath,
  maxLineLength,
  parseSleepHookLine,
  type SleepHookMessage,
  type SleepHookReply,
} from './sleep-hook-protocol.ts';
import { listenOnUnixSocket } from './unix-socket-listen.ts';

export interface SleepHookSourceOptions {
  /** Default `/run/spotjobs/sleep-hook.sock` (the hook's default too). */
  readonly socketPath?: string;
  /**
   * How long `pre` waits for the notice to be acted on before answering `timeout`, 0–60 000
   * ms; default 10 000. Keep it below the hook's own wait (20 s), so the hook hears why.
   */
  readonly ackTimeoutMs?: number;
  /** Also take "about to sleep" from this signal (no answer is possible), e.g. `SIGUSR1`. Off by default. */
  readonly sleepSignal?: NodeJS.Signals;
  /** Also take "resumed" from this signal, e.g. `SIGUSR2`. Off by default. */
  readonly resumeSignal?: NodeJS.Signals;
  /** Wait between attempts when the socket cannot be listened on; default 5 000 ms. */
  readonly listenRetryMs?: number;
  readonly clock?: Clock;
}

/** Sockets that sent nothing within this are dropped. */
const idleTimeoutMs = 5_000;

/**
 * Hears from the systemd system-sleep hook (`systemd/system-sleep/spotjobs`) over a unix
 * socket: `pre <kind>` becomes a `hibernate` notice (any sleep freezes the host and lets
 * leases lapse), `post <kind>` a `resume` notice with `awayMs` measured from the `pre`.
 *
 * The ack: for `pre`, the source answers the hook only once the promise returned by `notify`
 * settles (`ok`, or `error` when it rejects) or after `ackTimeoutMs` (`timeout`), so the host
 * sleeps after the runner has applied its hibernate policy, never later than the bound.
 * `post` is answered at once.
 *
 * A socket left behind by a killed daemon is replaced; when the socket cannot be listened on,
 * the error goes to `onError` and listening is retried every `listenRetryMs`.
 *
 * @example
 * ```ts
 * const sleepHook = new SleepHookSource({ ackTimeoutMs: 10_000 });
 * void sleepHook.watch({
 *   notify: (n) => (n.kind === 'hibernate' ? runner.applyHibernatePolicy() : undefined), // a promise: the hook waits
 *   onError: (err) => logger.warn({ err }, 'sleep hook'),
 *   signal: shutdown.signal,
 * });
 * ```
 */
export class SleepHookSource implements InterruptionSource {
  readonly name = 'sleep-hook';
  readonly #socketPath: string;
  readonly #ackTimeoutMs: number;
  readonly #listenRetryMs: number;
  readonly #sleepSignal: NodeJS.Signals | undefined;
  readonly #resumeSignal: NodeJS.Signals | undefined;
  readonly #clock: Clock;

  constructor(options: SleepHookSourceOptions = {}) {
    const socketPath = options.socketPath ?? defaultSleepHookSocketPath;
    const ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    const listenRetryMs = options.listenRetryMs ?? 5_000;
    throwIfProblems('invalid sleep hook source options', [
      typeof socketPath === 'string' && socketPath.length > 0 ? undefined : 'socketPath must be a path',
      // sun_path holds 108 bytes on Linux, the terminating NUL included.
      Buffer.byteLength(String(socketPath)) <= 107 ? undefined : 'socketPath must be at most 107 bytes',
      integerProblem('ackTimeoutMs', ackTimeoutMs, 0, 60_000),
      integerProblem('listenRetryMs', listenRetryMs, 10, 600_000),
      options.sleepSignal === undefined || options.sleepSignal !== options.resumeSignal
        ? undefined
        : 'sleepSignal and resumeSignal must differ',
    ]);
    this.#socketPath = socketPath;
    this.#ackTimeoutMs = ackTimeoutMs;
    this.#listenRetryMs = listenRetryMs;
    this.#sleepSignal = options.sleepSignal;
    this.#resumeSignal = options.resumeSignal;
    this.#clock = options.clock ?? systemClock;
  }

  async watch(options: WatchOptions): Promise<void> {
    const { signal } = options;
    if (signal.aborted) return;
    let sleptAt: number | undefined; // wall clock of the last `pre`, for `awayMs`
    const handle = async (message: SleepHookMessage): Promise<SleepHookReply> => {
      const at = this.#clock.now();
      if (message.phase === 'post') {
        const awayMs = sleptAt === undefined ? undefined : Math.max(0, at - sleptAt);
        sleptAt = undefined;
        void deliverNotice(options, {
          kind: 'resume',
          at,
          ...(awayMs === undefined ? {} : { awayMs }),
          source: this.name,
        });
        return 'ok';
      }
      sleptAt = at;
      return this.#acknowledged(deliverNotice(options, { kind: 'hibernate', at, source: this.name }));
    };

    const connections = new Set<Socket>();
    // Half-open allowed: a hook may shut down its sending side and still wait for the answer.
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      connections.add(socket);
      socket.once('close', () => connections.delete(socket));
      serve(socket, handle);
    });
    const onSleepSignal = (): void => void handle({ phase: 'pre', sleep: 'hibernate' });
    const onResumeSignal = (): void => void handle({ phase: 'post', sleep: 'hibernate' });
    if (this.#sleepSignal) process.on(this.#sleepSignal, onSleepSignal);
    if (this.#resumeSignal) process.on(this.#resumeSignal, onResumeSignal);
    try {
      if ((await this.#listen(server, options)) && !signal.aborted) await once(signal, 'abort');
    } finally {
      if (this.#sleepSignal) process.off(this.#sleepSignal, onSleepSignal);
      if (this.#resumeSignal) process.off(this.#resumeSignal, onResumeSignal);
      // Node removes the socket file when a listening server closes.
      const closed = server.listening ? once(server, 'close') : Promise.resolve();
      server.close();
      for (const socket of connections) socket.destroy();
      await closed;
    }
  }

  /** Listens, retrying until it works (true) or the watch is aborted (false). */
  async #listen(server: Server, options: WatchOptions): Promise<boolean> {
    for (;;) {
      try {
        await listenOnUnixSocket(server, this.#socketPath, options.signal);
        return true;
      } catch (err) {
        if (options.signal.aborted) return false;
        options.onError(asError(err));
      }
      try {
        await this.#clock.sleep(this.#listenRetryMs, options.signal);
      } catch {
        return false;
      }
    }
  }

  /** `ok`/`error` once the notice was acted on, or `timeout` after `ackTimeoutMs`. */
  #acknowledged(delivered: Promise<boolean>): Promise<SleepHookReply> {
    return new Promise((resolve) => {
      const timer = this.#clock.setTimer(this.#ackTimeoutMs, () => resolve('timeout'));
      void delivered.then((ok) => {
        timer.cancel();
        resolve(ok ? 'ok' : 'error');
      });
    });
  }
}

/** Reads one line from a hook connection, answers it, closes. */
function serve(socket: Socket, handle: (message: SleepHookMessage) => Promise<SleepHookReply>): void {
  let buffered = '';
  let answered = false;
  const answer = (line: string): void => {
    if (answered) return;
    answered = true;
    socket.off('data', onData);
    const message = parseSleepHookLine(line);
    if (!message) {
      reply(socket, 'invalid');
      return;
    }
    socket.setTimeout(0); // `pre` may wait for the ack; its own bound applies
    void handle(message).then((result) => reply(socket, result));
  };
  const onData = (chunk: string): void => {
    buffered += chunk;
    const newline = buffered.indexOf('\n');
    if (newline >= 0) answer(buffered.slice(0, newline));
    else if (buffered.length > maxLineLength) answer('');
  };
  socket.setEncoding('utf8');
  socket.setTimeout(idleTimeoutMs, () => socket.destroy());
  socket.on('data', onData);
  socket.once('end', () => answer(buffered)); // a last line without its newline
  // The hook may give up first (its own timeout): a reset is not the daemon's problem.
  socket.on('error', () => {});
}

function reply(socket: Socket, result: SleepHookReply): void {
  if (!socket.destroyed && socket.writable) socket.end(`${result}\n`);
  else socket.destroy();
}
