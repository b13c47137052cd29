import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { BackendError } from '../src/errors.ts';
import { SleepHookSource, type SleepHookSourceOptions } from '../src/interruption/sleep-hook-source.ts';
import type { InterruptionNotice } from '../src/ports/interruption-source.ts';
import { watchNotices } from './support/watch-notices.ts';

const hook = fileURLToPath(new URL('../../../systemd/system-sleep/spotjobs', import.meta.url));
const waitFor = (check: () => void | Promise<void>) => vi.waitFor(check, { timeout: 20_000, interval: 20 });

async function tempSocketPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spotjobs-hook-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'sleep.sock');
}

async function isSocket(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isSocket(),
    () => false,
  );
}

/** Runs the hook under `sh` (dash here: no bashisms survive), as systemd would with these arguments. */
function runHook(args: readonly string[], env: Record<string, string>) {
  const proc: ChildProcess = spawn('sh', [hook, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onTestFinished(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  let output = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = once(proc, 'exit').then(([code]) => ({ code: code as number | null, output }));
  return { proc, exited };
}

function watchSource(
  options: SleepHookSourceOptions,
  react?: (n: InterruptionNotice) => void | Promise<void>,
) {
  return watchNotices(new SleepHookSource(options), react);
}

/** A unix socket file with nobody behind it, as a daemon killed with -9 leaves. */
async function staleSocket(path: string): Promise<void> {
  const proc = spawn(process.execPath, [
    '-e',
    "require('node:net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))",
    path,
  ]);
  await once(proc, 'exit');
  expect(await isSocket(path)).toBe(true);
}

describe('the system-sleep hook script', () => {
  it('parses as POSIX sh', async () => {
    await expect(promisify(execFile)('sh', ['-n', hook])).resolves.toMatchObject({ stderr: '' });
  });

  it('pre: tells the daemon and waits until the notice has been acted on', async () => {
    const socketPath = await tempSocketPath();
    let release!: () => void;
    const acted = new Promise<void>((resolve) => {
      release = resolve;
    });
    const w = watchSource({ socketPath }, (n) => (n.kind === 'hibernate' ? acted : undefined));
    await waitFor(async () => expect(await isSocket(socketPath)).toBe(true));

    const run = runHook(['pre', 'hibernate'], { SPOTJOBS_SLEEP_SOCKET: socketPath });
    await waitFor(() => expect(w.notices.map((n) => n.kind)).toEqual(['hibernate']));
    // The hook is still holding the sleep back while the runner applies its policy.
    const exitedEarly = await Promise.race([
      run.exited.then(() => true),
      new Promise((r) => setTimeout(r, 300, false)),
    ]);
    expect(exitedEarly).toBe(false);
    release();
    const { code, output } = await run.exited;
    expect(code).toBe(0);
    expect(output).toContain('pre hibernate: daemon acknowledged');
    expect(w.notices[0]).toMatchObject({ kind: 'hibernate', source: 'sleep-hook' });
    expect(w.errors).toEqual([]);
  });

  it('post: reports a resume, with the time away since pre', async () => {
    const socketPath = await tempSocketPath();
    const w = watchSource({ socketPath });
    await waitFor(async () => expect(await isSocket(socketPath)).toBe(true));
    expect((await runHook(['pre', 'suspend'], { SPOTJOBS_SLEEP_SOCKET: socketPath }).exited).code).toBe(0);
    const { code, output } = await runHook(['post', 'suspend'], { SPOTJOBS_SLEEP_SOCKET: socketPath }).exited;
    expect(code).toBe(0);
    expect(output).toContain('post suspend: daemon acknowledged');
    expect(w.notices.map((n) => n.kind)).toEqual(['hibernate', 'resume']);
    const [pre, post] = w.notices;
    expect(post).toMatchObject({ kind: 'resume', source: 'sleep-hook', awayMs: post!.at - pre!.at });
  });

  it('answers timeout when the notice is not acted on within ackTimeoutMs, and error when it fails; exits 0 either way', async () => {
    const socketPath = await tempSocketPath();
    let fail = false;
    const w = watchSource({ socketPath, ackTimeoutMs: 200 }, () =>
      fail ? Promise.reject(new Error('release failed')) : new Promise<void>(() => {}),
    );
    await waitFor(async () => expect(await isSocket(socketPath)).toBe(true));
    const slow = await runHook(['pre', 'hibernate'], { SPOTJOBS_SLEEP_SOCKET: socketPath }).exited;
    expect(slow).toMatchObject({ code: 0 });
    expect(slow.output).toContain("daemon answered 'timeout'");
    fail = true;
    const failed = await runHook(['pre', 'hibernate'], { SPOTJOBS_SLEEP_SOCKET: socketPath }).exited;
    expect(failed).toMatchObject({ code: 0 });
    expect(failed.output).toContain("daemon answered 'error'");
    expect(w.errors.map((e) => e.message)).toEqual(['release failed']);
  });

  it('exits 0 at once when no daemon runs: no socket, or a stale one', async () => {
    const socketPath = await tempSocketPath();
    const absent = await runHook(['pre', 'hibernate'], { SPOTJOBS_SLEEP_SOCKET: socketPath }).exited;
    expect(absent).toMatchObject({ code: 0 });
    expect(absent.output).toContain('no daemon socket');

    await staleSocket(socketPath);
    const stale = await runHook(['pre', 'hibernate'], { SPOTJOBS_SLEEP_SOCKET: socketPath }).exited;
    expect(stale).toMatchObject({ code: 0 });
    expect(stale.output).toContain("daemon answered 'unreachable: Connection refused'");
  });

  it('gives up after its own bound when the daemon never answers, and still exits 0', async () => {
    const socketPath = await tempSocketPath();
    const mute = createServer(() => {}); // accepts, reads nothing, says nothing
    mute.listen(socketPath);
    await once(mute, 'listening');
    onTestFinished(() => {
      mute.close();
    });
    const { code, output } = await runHook(['pre', 'hibernate'], {
      SPOTJOBS_SLEEP_SOCKET: socketPath,
      SPOTJOBS_SLEEP_HOOK_TIMEOUT: '1',
    }).exited;
    expect(code).toBe(0);
    expect(output).toContain("daemon answered 'timed out'");
  });

  it('ignores arguments it does not know, without contacting the daemon', async () => {
    const socketPath = await tempSocketPath();
    const w = watchSource({ socketPath });
    await waitFor(async () => expect(await isSocket(socketPath)).toBe(true));
    for (const args of [
      [],
      ['pre'],
      ['during', 'hibernate'],
      ['pre', 'hibernate; reboot'],
      ['pre', '$(id)'],
    ]) {
      const { code, output } = await runHook(args, { SPOTJOBS_SLEEP_SOCKET: socketPath }).exited;
      expect({ args, code, output }).toEqual({ args, code: 0, output: '' });
    }
    // A bad timeout falls back to the default instead of breaking the hook.
    const odd = await runHook(['post', 'hibernate'], {
      SPOTJOBS_SLEEP_SOCKET: socketPath,
      SPOTJOBS_SLEEP_HOOK_TIMEOUT: '99999999999999999999',
    }).exited;
    expect(odd).toMatchObject({ code: 0 });
    expect(odd.output).toContain('daemon acknowledged');
    expect(w.notices.map((n) => n.kind)).toEqual(['resume']);
  });
});

describe('SleepHookSource', () => {
  it('listens owner-only, replaces a stale socket, and removes the socket when the watch ends', async () => {
    const socketPath = await tempSocketPath();
    await staleSocket(socketPath);
    const w = watchSource({ socketPath });
    await waitFor(async () => expect((await stat(socketPath)).mode & 0o777).toBe(0o600));
    expect((await runHook(['post', 'hibernate'], { SPOTJOBS_SLEEP_SOCKET: socketPath }).exited).code).toBe(0);
    expect(w.notices.map((n) => n.kind)).toEqual(['resume']);
    w.controller.abort();
    await w.watching;
    expect(await isSocket(socketPath)).toBe(false);
    expect(w.errors).toEqual([]);
  });

  it('does not take over a socket another daemon listens on: reports it and retries', async () => {
    const socketPath = await tempSocketPath();
    const first = watchSource({ socketPath });
    await waitFor(async () => expect(await isSocket(socketPath)).toBe(true));
    const second = watchSource({ socketPath, listenRetryMs: 100 });
    await waitFor(() => expect(second.errors.length).toBeGreaterThanOrEqual(2));
    expect(second.errors[0]).toBeInstanceOf(BackendError);
    expect(second.errors[0]?.message).toBe(`another process listens on ${socketPath}`);

    // The first one goes away: the second takes over on its next attempt.
    first.controller.abort();
    await first.watching;
    await waitFor(async () => {
      const { output } = await runHook(['post', 'hibernate'], { SPOTJOBS_SLEEP_SOCKET: socketPath }).exited;
      expect(output).toContain('daemon acknowledged');
    });
    expect(second.notices.map((n) => n.kind)).toContain('resume');
    expect(first.notices).toEqual([]);
  });

  it('answers invalid to a line it does not understand', async () => {
    const socketPath = await tempSocketPath();
    const w = watchSource({ socketPath });
    await waitFor(async () => expect(await isSocket(socketPath)).toBe(true));
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(socketPath, () => socket.write('pre nap\n'));
      let got = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        got += chunk;
      });
      socket.on('end', () => resolve(got));
      socket.on('error', reject);
    });
    expect(answer).toBe('invalid\n');
    expect(w.notices).toEqual([]);
  });

  it('also takes "about to sleep" and "resumed" from signals when asked to', async () => {
    const socketPath = await tempSocketPath();
    const w = watchSource({ socketPath, sleepSignal: 'SIGUSR2', resumeSignal: 'SIGHUP' });
    await waitFor(async () => expect(await isSocket(socketPath)).toBe(true));
    process.emit('SIGUSR2', 'SIGUSR2'); // JS listeners only: the test worker gets no real signal
    process.emit('SIGHUP', 'SIGHUP');
    await waitFor(() => expect(w.notices.map((n) => n.kind)).toEqual(['hibernate', 'resume']));
    w.controller.abort();
    await w.watching;
    expect(process.listenerCount('SIGUSR2')).toBe(0);
    expect(process.listenerCount('SIGHUP')).toBe(0);
  });
});
