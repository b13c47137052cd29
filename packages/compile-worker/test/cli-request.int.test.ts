// `spotjobs-compile` as a real process against a real local compile server (embedded store in a
// temp dir, real HTTP). The test plays the build daemon with BuildService transitions while the
// CLI waits, and checks what a person or a script sees: output, exit code, the file on disk.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readdir, readFile, symlink } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { buildIdentity } from '../src/build/build-identity.ts';
import { buildClaimKey } from '../src/build/build-message.ts';
import { toBuildSpec } from '../src/build/build-spec.ts';
import { type LocalCompileServer, startLocalCompileServer } from '../src/local/local-compile.ts';
import { API_KEY } from './support/api-backends.ts';
import { drain, tempDir, tempStore, testProfile } from './support/local-builds.ts';

const CLI_MAIN = fileURLToPath(new URL('../src/cli/cli-main.ts', import.meta.url));
const LAUNCHER = fileURLToPath(new URL('../bin/spotjobs-compile', import.meta.url));
const WAIT_MS = 30_000;

interface Farm {
  readonly server: LocalCompileServer;
  readonly queueName: string;
  readonly store: Awaited<ReturnType<typeof tempStore>>;
}

async function startFarm(): Promise<Farm> {
  const store = await tempStore();
  const suffix = randomUUID().slice(0, 8);
  const queueName = `compile-${suffix}`;
  const server = await startLocalCompileServer({
    store,
    profile: testProfile,
    apiKeys: [API_KEY],
    queueName,
    tableName: `builds-${suffix}`,
  });
  onTestFinished(() => server.close());
  return { server, queueName, store };
}

/** A running CLI process with its output so far. */
interface CliRun {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(pattern: RegExp): Promise<void>;
}

const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});

function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; command?: string } = {},
): CliRun {
  const command = options.command ?? process.execPath;
  const argv = options.command ? [...args] : [CLI_MAIN, ...args];
  const child = spawn(command, argv, {
    cwd: options.cwd ?? process.cwd(),
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const run: CliRun = {
    child,
    stdout: '',
    stderr: '',
    exited: once(child, 'exit').then(([code, signal]) => {
      running.delete(child);
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    }),
    async waitFor(pattern) {
      const deadline = Date.now() + WAIT_MS;
      while (!pattern.test(run.stderr)) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`no ${pattern} in the CLI's output:\n${run.stderr}\n${run.stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    run.stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    run.stderr += chunk;
  });
  return run;
}

function cliEnv(farm: Farm, extra: Record<string, string> = {}): Record<string, string> {
  return { SPOTJOBS_COMPILE_URL: farm.server.url, SPOTJOBS_COMPILE_API_KEY: API_KEY, ...extra };
}

const rangerId = (use: string) =>
  buildIdentity(toBuildSpec({ category: 'app-misc', name: 'ranger', version: '1.8.1' }, use), testProfile);

/** The build daemon's part for one attempt: claim, start, then complete or fail. */
async function startAttempt(farm: Farm, buildId: string, workerId = 'worker-7') {
  const { builds, blobs } = farm.server;
  const generation = (await builds.get(buildId))!.generation;
  const ref = { buildId, generation };
  const claim = await builds.claims.claim(buildClaimKey(ref), workerId, { ttlMs: 60_000 });
  const owner = { workerId, claimToken: claim!.token };
  await builds.start(ref, owner);
  return {
    async complete(bytes: Buffer, recordedSha256?: string) {
      const key = `packages/${randomUUID()}-app-misc@ranger-1.8.1.tbz2`;
      await blobs.put(key, bytes);
      const sha256 = recordedSha256 ?? createHash('sha256').update(bytes).digest('hex');
      await builds.complete(ref, owner, { artifact: { key, sha256, size: bytes.byteLength } });
    },
    async fail(reason: string, log: string) {
      const logKey = `logs/${buildId}/g${generation}-a1.log`;
      await blobs.put(logKey, log);
      await builds.fail(ref, owner, { reason, logKey });
    },
  };
}

/** A build that is ready before the CLI asks: admitted and built by the "daemon" first. */
async function readyBuild(farm: Farm, use: string, bytes: Buffer): Promise<string> {
  const spec = toBuildSpec({ category: 'app-misc', name: 'ranger', version: '1.8.1' }, use);
  const admission = await farm.server.builds.admit(spec, { mayEnqueue: true, requestedBy: 'test' });
  await (await startAttempt(farm, admission.id)).complete(bytes);
  return admission.id;
}

/** A binary package stand-in: several chunks on the wire, different every time. */
const artifactBytes = () => randomBytes(70_000);

describe('spotjobs-compile request (process, real HTTP)', () => {
  it('follows queued → building → ready, then downloads the verified artifact under its Portage name (via a symlinked launcher)', async () => {
    const farm = await startFarm();
    const out = await tempDir('spotjobs-cli-out-');
    const binDir = await tempDir('spotjobs-cli-bin-');
    await symlink(LAUNCHER, join(binDir, 'spotjobs-compile'));
    const bytes = artifactBytes();

    const cli = runCli(
      ['request', 'app-misc/ranger-1.8.1', '--use', '-test doc', '--poll-interval', '0.2', '--output', out],
      { command: join(binDir, 'spotjobs-compile'), env: cliEnv(farm, { SPOTJOBS_NODE: process.execPath }) },
    );
    await cli.waitFor(/\] queued\n/);
    const attempt = await startAttempt(farm, rangerId('-test doc'));
    await cli.waitFor(/\] building \(attempt 1, worker worker-7\)/);
    await attempt.complete(bytes);
    const exit = await cli.exited;

    expect(exit, cli.stderr).toEqual({ code: 0, signal: null });
    const file = join(out, 'ranger-1.8.1.tbz2');
    expect(cli.stdout).toBe(`${file}\n`);
    expect(await readFile(file)).toEqual(bytes);
    expect(await readdir(out)).toEqual(['ranger-1.8.1.tbz2']);
    const order = ['] queued', '] building', '] ready'].map((s) => cli.stderr.indexOf(s));
    expect(
      order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!)),
      cli.stderr,
    ).toBe(true);
    expect(cli.stderr).toContain(
      `app-misc/ranger-1.8.1 USE="doc -test": build ${rangerId('-test doc')} (new build)`,
    );
    expect(cli.stderr).toMatch(/sha256 [0-9a-f]{64} verified/);
    expect(cli.stderr).not.toContain('served from the cache');
  });

  it('downloads at once when the first answer is ready, says it was served from the cache, and ends with a JSON line', async () => {
    const farm = await startFarm();
    const out = await tempDir('spotjobs-cli-out-');
    const bytes = artifactBytes();
    const id = await readyBuild(farm, 'doc -test', bytes);

    // Another spelling of the same USE is the same build.
    const cli = runCli(['request', '=app-misc/ranger-1.8.1', '--use=-test', '--use', 'doc', '--json'], {
      cwd: out,
      env: cliEnv(farm),
    });
    const exit = await cli.exited;

    expect(exit.code, cli.stderr).toBe(0);
    expect(cli.stderr).toContain('served from the cache');
    expect(cli.stderr).not.toContain('] building');
    const result = JSON.parse(cli.stdout.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({
      ok: true,
      exitCode: 0,
      buildId: id,
      state: 'ready',
      cached: true,
      created: false,
      file: join(out, 'ranger-1.8.1.tbz2'),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.byteLength,
    });
    expect(await readFile(join(out, 'ranger-1.8.1.tbz2'))).toEqual(bytes);
  });

  it('stops at ready with --no-download and prints a working artifact link', async () => {
    const farm = await startFarm();
    const out = await tempDir('spotjobs-cli-out-');
    const bytes = artifactBytes();
    await readyBuild(farm, '', bytes);

    const cli = runCli(['request', 'app-misc/ranger-1.8.1', '--no-download', '--quiet'], {
      cwd: out,
      env: cliEnv(farm),
    });
    const exit = await cli.exited;

    expect(exit.code, cli.stderr).toBe(0);
    expect(cli.stderr).toBe('');
    const link = cli.stdout.trim();
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/blobs\/compile\/packages\//);
    expect(Buffer.from(await (await fetch(link)).arrayBuffer())).toEqual(bytes);
    expect(await readdir(out)).toEqual([]);
  });

  it('exits 1 on a failed build with its reason, the log link and the log’s last lines', async () => {
    const farm = await startFarm();
    const out = await tempDir('spotjobs-cli-out-');
    const log = `${Array.from({ length: 40 }, (_, i) => `emerge line ${i}`).join('\n')}\n * ERROR: app-misc/ranger-1.8.1 failed (compile phase)\n\u001b[31mred\u001b[0m\n`;

    const cli = runCli(
      ['request', 'app-misc/ranger-1.8.1', '--use', 'ssl', '--poll-interval', '0.2', '--json'],
      {
        cwd: out,
        env: cliEnv(farm),
      },
    );
    await cli.waitFor(/\] queued\n/);
    const attempt = await startAttempt(farm, rangerId('ssl'));
    await cli.waitFor(/\] building/);
    await attempt.fail('emerge --buildpkgonly exited with 1', log);
    const exit = await cli.exited;

    expect(exit.code, cli.stderr).toBe(1);
    expect(cli.stderr).toContain(`build ${rangerId('ssl')} failed: emerge --buildpkgonly exited with 1`);
    expect(cli.stderr).toMatch(/ {2}log: http:\/\/127\.0\.0\.1:\d+\/blobs\/compile\/logs\//);
    expect(cli.stderr).toContain('  |  * ERROR: app-misc/ranger-1.8.1 failed (compile phase)');
    expect(cli.stderr).toContain('  | emerge line 39');
    expect(cli.stderr).not.toContain('emerge line 10\n');
    // The log's escape sequences are shown, never sent to the terminal.
    expect(cli.stderr).toContain('  | \\x1b[31mred\\x1b[0m');
    expect(cli.stderr).not.toContain('\u001b');
    const result = JSON.parse(cli.stdout.trim());
    expect(result).toMatchObject({
      ok: false,
      exitCode: 1,
      state: 'failed',
      reason: 'emerge --buildpkgonly exited with 1',
    });
    expect(await readdir(out)).toEqual([]);
  });

  it('exits 4 and leaves no file when the bytes do not match the recorded sha256', async () => {
    const farm = await startFarm();
    const out = await tempDir('spotjobs-cli-out-');

    const cli = runCli(['request', 'app-misc/ranger-1.8.1', '--use', '-ssl', '--poll-interval', '0.2'], {
      cwd: out,
      env: cliEnv(farm),
    });
    await cli.waitFor(/\] queued\n/);
    const attempt = await startAttempt(farm, rangerId('-ssl'));
    await attempt.complete(artifactBytes(), createHash('sha256').update('other bytes').digest('hex'));
    const exit = await cli.exited;

    expect(exit.code, cli.stderr).toBe(4);
    expect(cli.stderr).toMatch(
      /does not match the build record: sha256 [0-9a-f]{64} differs from the recorded/,
    );
    expect(cli.stdout).toBe('');
    expect(await readdir(out)).toEqual([]);
  });

  it('refuses a bad atom, shell metacharacters or bad USE with the server’s own messages and sends nothing (exit 2)', async () => {
    const farm = await startFarm();
    const requests: string[] = [];
    const recorder = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(500).end();
    });
    recorder.listen(0, '127.0.0.1');
    await once(recorder, 'listening');
    onTestFinished(() => new Promise<void>((resolve) => recorder.close(() => resolve())));
    const recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
    const cases = [
      { atom: 'app-misc/ranger', use: 'doc' },
      { atom: 'app-misc/ranger-1.8.1;rm -rf ~', use: '' },
      { atom: '../../etc/passwd-1', use: '' },
      { atom: 'app-misc/ranger-1.8.1', use: 'ssl $(id) `reboot`' },
      { atom: 'app-misc/ranger-1.8.1', use: 'ssl\u00a0doc' },
    ];

    // One process per case, all at once: five Node start-ups in a row are slow on a loaded machine.
    const runs = await Promise.all(
      cases.map(async (input) => {
        const cli = runCli(['request', input.atom, '--use', input.use], {
          env: { SPOTJOBS_COMPILE_URL: recorderUrl, SPOTJOBS_COMPILE_API_KEY: API_KEY },
        });
        return { cli, exit: await cli.exited };
      }),
    );

    for (const [i, input] of cases.entries()) {
      const { cli, exit } = runs[i]!;
      // What the real server answers to the same body: the CLI must say the same.
      const answer = await fetch(`${farm.server.url}/v1/builds`, {
        method: 'POST',
        headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify(input),
      });
      const { error } = (await answer.json()) as { error: { message: string } };

      expect(exit.code, cli.stderr).toBe(2);
      expect(answer.status).toBe(400);
      expect(cli.stderr).toContain('nothing was sent');
      for (const problem of error.message.split('; ')) expect(cli.stderr).toContain(`  ${problem}\n`);
    }
    expect(requests).toEqual([]);
    expect(await drain(farm.store.queue(farm.queueName))).toEqual([]);
  }, 120_000);

  it('exits 3 with a clear message for a wrong API key, warns about a key on the command line, and never prints it', async () => {
    const farm = await startFarm();
    const wrongKey = `wrong-key-${randomUUID()}`;

    const cli = runCli(['request', 'app-misc/ranger-1.8.1', '--api-key', wrongKey, '--json'], {
      env: { SPOTJOBS_COMPILE_URL: farm.server.url },
    });
    const exit = await cli.exited;

    expect(exit.code, cli.stderr).toBe(3);
    expect(cli.stderr).toContain('warning: --api-key is visible to other users in ps');
    expect(cli.stderr).toContain(
      'the server refused the credentials (401 UNAUTHORIZED: the API key is not valid)',
    );
    expect(JSON.parse(cli.stdout.trim())).toMatchObject({
      ok: false,
      exitCode: 3,
      error: { code: 'UNAUTHORIZED' },
    });
    expect(`${cli.stdout}${cli.stderr}`).not.toContain(wrongKey);
    expect(await drain(farm.store.queue(farm.queueName))).toEqual([]);
  });

  it('exits 3 when nothing answers at the URL', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const cli = runCli(['request', 'app-misc/ranger-1.8.1'], {
      env: { SPOTJOBS_COMPILE_URL: `http://127.0.0.1:${port}`, SPOTJOBS_COMPILE_API_KEY: API_KEY },
    });
    const exit = await cli.exited;

    expect(exit.code, cli.stderr).toBe(3);
    expect(cli.stderr).toContain(`POST http://127.0.0.1:${port}/v1/builds: ECONNREFUSED`);
  });

  it('exits 130 on SIGINT while waiting', async () => {
    const farm = await startFarm();
    const cli = runCli(['request', 'app-misc/ranger-1.8.1', '--use', 'X', '--poll-interval', '0.2'], {
      env: cliEnv(farm),
    });
    await cli.waitFor(/\] queued\n/);

    cli.child.kill('SIGINT');
    const exit = await cli.exited;

    expect(exit, cli.stderr).toEqual({ code: 130, signal: null });
    expect(cli.stderr).toContain('interrupted');
  });

  it('exits 5 when the build does not conclude within --timeout, naming the build to ask about later', async () => {
    const farm = await startFarm();
    const cli = runCli(
      ['request', 'app-misc/ranger-1.8.1', '--use', 'gtk', '--poll-interval', '0.2', '--timeout', '1'],
      {
        env: cliEnv(farm),
      },
    );
    const exit = await cli.exited;

    expect(exit.code, cli.stderr).toBe(5);
    expect(cli.stderr).toContain(`build ${rangerId('gtk')} is still queued after 1 s`);
  });
});

describe('spotjobs-compile status (process, real HTTP)', () => {
  it('shows a build by id, and refuses an id that is not one (exit 2)', async () => {
    const farm = await startFarm();
    const id = await readyBuild(farm, 'ssl', artifactBytes());

    const shown = runCli(['status', id], { env: { SPOTJOBS_COMPILE_URL: farm.server.url } });
    const bad = runCli(['status', 'ranger'], { env: { SPOTJOBS_COMPILE_URL: farm.server.url } });
    const [shownExit, badExit] = await Promise.all([shown.exited, bad.exited]);

    expect(shownExit.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`build      ${id}`);
    expect(shown.stdout).toContain('state      ready');
    expect(shown.stdout).toContain('USE        ssl');
    expect(badExit.code).toBe(2);
    expect(bad.stderr).toContain('build id: must be 64 lower-case hex characters');
  });
});
