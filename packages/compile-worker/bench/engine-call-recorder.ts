import type Docker from 'dockerode';

/** One Docker Engine API request, timed from the call to its answer (headers, for streams). */
export interface EngineCall {
  /** `POST /containers/{id}/start`: ids and names replaced, no query, no API version. */
  readonly endpoint: string;
  /** `performance.now()` when the request was made. */
  readonly startedAt: number;
  readonly ms: number;
}

interface DialOptions {
  readonly method: string;
  readonly path: string;
}
type Dial = (options: DialOptions, callback: (err: unknown, data: unknown) => void) => void;

/**
 * Records every Engine API request `docker` makes (and every container or exec object it
 * hands out, which share its modem), for a breakdown of where an executor's time goes.
 * `take()` returns the calls recorded since the last `take()`.
 *
 * @example
 * ```ts
 * const calls = recordEngineCalls(docker);
 * await executor.build(request);
 * for (const call of calls.take()) console.log(call.endpoint, call.ms.toFixed(1));
 * ```
 */
export function recordEngineCalls(docker: Docker): { take(): EngineCall[] } {
  const modem = docker.modem as { dial: Dial };
  const dial = modem.dial.bind(modem);
  let calls: EngineCall[] = [];
  modem.dial = (options, callback) => {
    const startedAt = performance.now();
    const endpoint = `${options.method} ${endpointOf(options.path)}`;
    dial(options, (err, data) => {
      calls.push({ endpoint, startedAt, ms: performance.now() - startedAt });
      callback(err, data);
    });
  };
  return {
    take() {
      const taken = calls;
      calls = [];
      return taken;
    },
  };
}

function endpointOf(path: string): string {
  const [route = ''] = path.split('?');
  return route
    .replace(/^\/v[0-9.]+\//, '/')
    .replace(/^\/(containers|exec)\/(?!create$)[^/]+/, '/$1/{id}')
    .replace(/^\/images\/.+\/json$/, '/images/{ref}/json');
}
