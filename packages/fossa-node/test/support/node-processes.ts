// Fossa node daemons as child processes for the integration tests: started through the real
// launcher (bin/spotjobs-fossa-node) with only the given environment, ready once they log
// their URL; plus a small client for their HTTP API.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const nodeLauncher = fileURLToPath(new URL('../../bin/spotjobs-fossa-node', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary JSON replies
export type Json = any;

export interface NodeProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Settles with [exit code, signal]. */
  readonly exited: Promise<unknown[]>;
  /** The API's base URL, once ready. */
  url: string;
  /** stdout and stderr so far. */
  output: string;
}

/** Settings every test node shares: quick timings, loopback, a random port. */
export const quickNodeEnv = {
  FOSSA_HTTP_HOST: '127.0.0.1',
  FOSSA_HTTP_PORT: '0',
  FOSSA_CPU_TASK_RATIO: '1.5',
  FOSSA_VISIBILITY_SECONDS: '6',
  FOSSA_PARENT_LEASE_SECONDS: '3',
  FOSSA_RESUME_INTERVAL_MS: '500',
  FOSSA_HEARTBEAT_INTERVAL_MS: '1000',
  FOSSA_OUTCOME_POLL_MS: '100',
  FOSSA_POLL_WAIT_SECONDS: '1',
  FOSSA_SHUTDOWN_GRACE_SECONDS: '5',
} as const;

/** Starts the launcher with `env` (plus PATH); spawns it without waiting for it to be ready. */
export function spawnNode(name: string, env: Record<string, string>): NodeProcess {
  const child = spawn('sh', [nodeLauncher], {
    env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', SPOTJOBS_NODE: process.execPath, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const node: NodeProcess = { name, child, exited: once(child, 'exit'), url: '', output: '' };
  child.stdout!.on('data', (chunk: Buffer) => {
    node.output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    node.output += chunk.toString();
  });
  return node;
}

/** Starts a node and waits for its "fossa node ready" line; rejects if it exits first. */
export async function startNode(name: string, env: Record<string, string>): Promise<NodeProcess> {
  const node = spawnNode(name, { ...quickNodeEnv, FOSSA_LOG_LEVEL: 'info', ...env });
  await new Promise<void>((resolve, reject) => {
    const look = () => {
      const match = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"fossa node ready"/.exec(node.output);
      if (!match) return;
      node.url = match[1]!;
      node.child.stdout!.off('data', look);
      resolve();
    };
    node.child.stdout!.on('data', look);
    node.child.once('exit', (code) =>
      reject(new Error(`${name} exited ${code} before it was ready:\n${node.output}`)),
    );
  });
  return node;
}

/** Kills whatever still runs. */
export function killAll(nodes: readonly NodeProcess[]): void {
  for (const node of nodes)
    if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
}

export async function api(
  node: NodeProcess,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${node.url}/api/0.01/${path}`, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

export function submit(node: NodeProcess, spec: Json): Promise<{ status: number; body: Json }> {
  return api(node, 'task', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
}

/** Polls `GET /task/<id>` on `node` until `done(task)`; throws with the last answer on timeout. */
export async function waitForTask(
  node: NodeProcess,
  taskId: string,
  done: (task: Json) => boolean,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const { status, body } = await api(node, `task/${encodeURIComponent(taskId)}`);
    last = body;
    if (status === 200 && done(body)) return body;
    if (Date.now() > deadline) throw new Error(`task ${taskId}: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const finished = (task: Json): boolean => task.status === 'complete' || task.status === 'failed';
