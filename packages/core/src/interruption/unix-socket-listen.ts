import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect, type Server } from 'node:net';
import { dirname } from 'node:path';
import { AbortedError, BackendError } from '../errors.ts';

/**
 * Makes `server` listen on the unix socket `path`, owner-only (0600: root, which runs the
 * hooks, can always connect). A socket file left behind by a killed daemon (nobody answers
 * on it) is replaced; one with a live listener is not, and neither is a file that is not a
 * socket. Throws `BackendError` when it cannot listen.
 *
 * @example
 * ```ts
 * await listenOnUnixSocket(createServer(onConnection), '/run/spotjobs/sleep-hook.sock', signal);
 * ```
 */
export async function listenOnUnixSocket(server: Server, path: string, signal: AbortSignal): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
    try {
      await listen(server, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      if (await answers(path))
        throw new BackendError(`another process listens on ${path}`, true, { cause: err });
      if (!(await lstat(path)).isSocket())
        throw new BackendError(`${path} exists and is not a socket`, false);
      await unlink(path);
      if (signal.aborted) throw new AbortedError({ cause: signal.reason });
      await listen(server, path);
    }
    await chmod(path, 0o600);
  } catch (err) {
    if (err instanceof BackendError || err instanceof AbortedError) throw err;
    throw new BackendError(`cannot listen on ${path}`, true, { cause: err });
  }
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(path);
  });
}

/** Whether something accepts connections on `path` (a refused connection means a stale file). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (live: boolean): void => {
      socket.destroy();
      resolve(live);
    };
    socket.setTimeout(1_000, () => done(true));
    socket.once('connect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'),
    );
  });
}
