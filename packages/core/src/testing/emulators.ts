import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Loopback endpoints of running emulators: fauxqs for SQS and S3, dynalite for DynamoDB. */
export interface EmulatorEndpoints {
  readonly sqs: string;
  readonly s3: string;
  readonly dynamodb: string;
}

export interface RunningEmulators {
  readonly endpoints: EmulatorEndpoints;
  /** Process ids, so benchmarks can read the emulators' CPU and memory. */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL('./emulator-process.ts', import.meta.url));

async function startOne(kind: 'fauxqs' | 'dynalite'): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [script, kind], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => String(line)),
    once(child, 'exit').then(([code]) => {
      throw new Error(`${kind} exited with code ${code} before listening`);
    }),
  ]);
  const { port } = JSON.parse(first) as { port: number };
  return { child, port };
}

/**
 * Starts fauxqs and dynalite, each in its own process on a random loopback port.
 *
 * @example
 * ```ts
 * const emulators = await startEmulators();
 * const sqs = new SQSClient({ ...awsTestClientConfig, endpoint: emulators.endpoints.sqs });
 * await emulators.stop();
 * ```
 */
export async function startEmulators(): Promise<RunningEmulators> {
  const [fauxqs, dynalite] = await Promise.all([startOne('fauxqs'), startOne('dynalite')]);
  const children = [fauxqs.child, dynalite.child];
  return {
    endpoints: {
      sqs: `http://127.0.0.1:${fauxqs.port}`,
      s3: `http://127.0.0.1:${fauxqs.port}`,
      dynamodb: `http://127.0.0.1:${dynalite.port}`,
    },
    pids: children.map((c) => c.pid!),
    async stop() {
      await Promise.all(
        children.map(async (child) => {
          if (child.exitCode !== null) return;
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          await exited;
        }),
      );
    },
  };
}

/** Client settings for the emulators: fixed test credentials and region, path-style S3. */
export const awsTestClientConfig = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  forcePathStyle: true,
} as const;
