import { randomUUID } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type RunnerProcess, startRunner } from './runner-process.ts';

/** The app the multi-node tests run: prints and keeps the hostfile, optionally sleeps, exits with a chosen code. */
const HOSTFILE_APP = `#!/bin/sh
cat "$HOST_FILE_PATH"
cp "$HOST_FILE_PATH" "$TMP_OUTPUT_DIR/hostfile.txt"
if [ -n "$TEST_APP_SLEEP" ]; then sleep "$TEST_APP_SLEEP"; fi
exit "\${TEST_APP_EXIT:-0}"
`;

export interface MultiNodeJobOptions {
  readonly nodes: number;
  /** The app's exit code on the main node. */
  readonly appExit?: number;
  /** Seconds the app sleeps before exiting. */
  readonly appSleep?: number;
  /** More variables for every node. */
  readonly env?: Record<string, string>;
  /** Node indexes not started at all (a child that never joins). */
  readonly never?: readonly number[];
  /** Start delays in ms by node index (late joiners; a late main node). */
  readonly delays?: Readonly<Record<number, number>>;
  /** Address of node i; default 127.0.0.(i+1) (all of 127/8 is loopback on Linux). */
  readonly address?: (index: number) => string;
  /** Wraps each node's command (e.g. `ip netns exec <ns>`); default: node directly. */
  readonly wrap?: (index: number) => { command: string; args: string[] } | undefined;
}

export interface MultiNodeJob {
  readonly jobId: string;
  readonly port: number;
  /** Marks every process of this job (for cleanup). */
  readonly mark: string;
  readonly root: string;
  /** Started node processes by index (`undefined` for nodes never started or not yet started). */
  readonly nodes: Array<RunnerProcess | undefined>;
  /** Resolves once every scheduled node has started. */
  readonly allStarted: Promise<void>;
  /** Starts a node still waiting for its delay at once. */
  startNow(index: number): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * Starts the nodes of one multi-node job as real `runner-main.ts` processes, each with its own
 * AWS_BATCH_* environment and work dir, the main node (index 0) first as Batch does.
 */
export async function startMultiNodeJob(options: MultiNodeJobOptions): Promise<MultiNodeJob> {
  const jobId = randomUUID();
  const mark = randomUUID();
  const root = join(tmpdir(), `mnp-${jobId}`);
  await mkdir(root, { recursive: true });
  const app = join(root, 'hostfile-app.sh');
  await writeFile(app, HOSTFILE_APP);
  await chmod(app, 0o755);
  const port = await freePort();
  const address = options.address ?? ((i: number) => `127.0.0.${i + 1}`);
  const nodes: Array<RunnerProcess | undefined> = Array.from({ length: options.nodes });
  const timers = new Map<number, NodeJS.Timeout>();
  const pending = new Map<number, () => void>();
  const starts: Promise<void>[] = [];
  for (let index = 0; index < options.nodes; index++) {
    if (options.never?.includes(index)) continue;
    const env: Record<string, string> = {
      SPOTJOBS_TEST_MARK: mark,
      EXEC_TYPE: 'batch',
      AWS_BATCH_JOB_ID: `${jobId}#${index}`,
      AWS_BATCH_JOB_ATTEMPT: '1',
      AWS_BATCH_JOB_NUM_NODES: String(options.nodes),
      AWS_BATCH_JOB_NODE_INDEX: String(index),
      AWS_BATCH_JOB_MAIN_NODE_INDEX: '0',
      ...(index === 0 ? {} : { AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: address(0) }),
      APP_BIN: app,
      SPOTJOBS_NODE_ADDRESS: address(index),
      SPOTJOBS_NODE_SLOTS: '2',
      SPOTJOBS_WORK_DIR: join(root, `node-${index}`),
      SPOTJOBS_RENDEZVOUS_PORT: String(port),
      TEST_APP_EXIT: String(options.appExit ?? 0),
      ...(options.appSleep ? { TEST_APP_SLEEP: String(options.appSleep) } : {}),
      ...options.env,
    };
    const launch = () => {
      const wrap = options.wrap?.(index);
      nodes[index] = startRunner(env, {
        name: `node ${index}`,
        ...(wrap ? { command: wrap.command, args: wrap.args } : {}),
      });
    };
    const delay = options.delays?.[index] ?? 0;
    if (delay === 0) launch();
    else
      starts.push(
        new Promise((resolve) => {
          const go = () => {
            clearTimeout(timers.get(index));
            pending.delete(index);
            launch();
            resolve();
          };
          pending.set(index, go);
          timers.set(index, setTimeout(go, delay));
        }),
      );
  }
  return {
    jobId,
    port,
    mark,
    root,
    nodes,
    allStarted: Promise.all(starts).then(() => undefined),
    async startNow(index) {
      pending.get(index)?.();
    },
    async cleanup() {
      for (const timer of timers.values()) clearTimeout(timer);
      await rm(root, { recursive: true, force: true });
    },
  };
}
