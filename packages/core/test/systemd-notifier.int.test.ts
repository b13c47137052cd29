import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemdNotifier } from '../src/observability/systemd-notifier.ts';
import { recordingLogger } from '../src/testing/recording-logger.ts';

// The real thing: systemd-notify (the notifier's sender) talking to a real AF_UNIX datagram
// socket that stands in for systemd's. The stand-in is python3 (on every machine): it receives
// with SO_PASSCRED like systemd, prints each message with the sender's PID from its
// credentials and the number of file descriptors it carried, and closes a BARRIER=1 message's
// pipe at once or, in `hold` mode, only when told to on stdin.

const receiverScript = String.raw`
import array, json, os, select, socket, struct, sys
name, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind("\0" + name[1:] if name.startswith("@") else name)
print(json.dumps({"listening": True}), flush=True)
held = []
while True:
    ready, _, _ = select.select([s, sys.stdin], [], [])
    if sys.stdin in ready:
        if not sys.stdin.readline():
            break
        for fd in held:
            os.close(fd)
        held = []
        print(json.dumps({"released": True}), flush=True)
        continue
    data, ancillary, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12) + socket.CMSG_SPACE(4 * 16))
    pid, fds = None, []
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
        elif level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            a = array.array("i")
            a.frombytes(payload[: len(payload) - len(payload) % a.itemsize])
            fds.extend(a)
    fields = [f for f in data.decode("utf-8").split("\n") if f]
    print(json.dumps({"fields": fields, "pid": pid, "fds": len(fds)}), flush=True)
    if mode == "hold" and "BARRIER=1" in fields:
        held.extend(fds)
    else:
        for fd in fds:
            os.close(fd)
`;

interface Received {
  readonly fields: string[];
  readonly pid: number;
  readonly fds: number;
}

interface Receiver {
  readonly socket: string;
  readonly messages: Received[];
  readonly released: number[];
  release(): void;
  close(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
let workDir = '';

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'spotjobs-notify-'));
  return () => rm(workDir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startReceiver(kind: 'path' | 'abstract', mode: 'close' | 'hold' = 'close'): Promise<Receiver> {
  const suffix = randomBytes(6).toString('hex');
  const socket = kind === 'path' ? join(workDir, `notify-${suffix}.sock`) : `@spotjobs-test-notify-${suffix}`;
  const child: ChildProcessWithoutNullStreams = spawn(
    'python3',
    ['-I', '-S', '-c', receiverScript, socket, mode],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const messages: Received[] = [];
  const released: number[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const listening = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`receiver exited ${code}: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const event = JSON.parse(line) as Partial<Received> & { listening?: true; released?: true };
      if (event.listening) resolve();
      else if (event.released) released.push(messages.length);
      else messages.push(event as Received);
    });
  });
  await listening;
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end();
      child.kill('SIGTERM');
      await exited;
    }
  };
  cleanups.push(close);
  return { socket, messages, released, release: () => child.stdin.write('release\n'), close };
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const withField = (messages: readonly Received[], field: string) =>
  messages.filter((m) => m.fields.includes(field));

/** Whether this process holds CAP_SYS_ADMIN, which lets systemd-notify send with our PID. */
async function hasCapSysAdmin(): Promise<boolean> {
  const status = await readFile('/proc/self/status', 'utf8');
  const effective = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0';
  return (BigInt(`0x${effective}`) & (1n << 21n)) !== 0n;
}

describe('systemdNotifier through systemd-notify to a real notify socket', () => {
  it('delivers READY=1 with its STATUS, then the barrier, before ready() resolves', async () => {
    const receiver = await startReceiver('path');
    const logger = recordingLogger();
    const notifier = systemdNotifier({ NOTIFY_SOCKET: receiver.socket, PATH: process.env.PATH }, { logger });
    expect(notifier.enabled).toBe(true);

    await notifier.ready('polling compile');
    await waitFor('READY=1 and the barrier', () => receiver.messages.length >= 2);

    expect(receiver.messages[0]?.fields).toEqual(['READY=1', 'STATUS=polling compile']);
    expect(receiver.messages[1]).toMatchObject({ fields: ['BARRIER=1'], fds: 1 });
    // With CAP_SYS_ADMIN systemd-notify sends with its parent's (our) credentials, so systemd
    // takes the message as the main process's; without, with its own (NotifyAccess=all).
    const sender = receiver.messages[0]?.pid ?? 0;
    if (await hasCapSysAdmin()) expect(sender).toBe(process.pid);
    else expect(sender).not.toBe(process.pid);
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('sends STATUS=, STOPPING=1 and EXTEND_TIMEOUT_USEC= in order, to an abstract socket too', async () => {
    const receiver = await startReceiver('abstract');
    expect(receiver.socket.startsWith('@')).toBe(true);
    const logger = recordingLogger();
    const notifier = systemdNotifier({ NOTIFY_SOCKET: receiver.socket }, { logger });

    await notifier.status('2 builds running');
    await notifier.extendTimeout(45_000);
    await notifier.stopping('draining');

    const payloads = receiver.messages.filter((m) => !m.fields.includes('BARRIER=1')).map((m) => m.fields);
    expect(payloads).toEqual([
      ['STATUS=2 builds running'],
      ['EXTEND_TIMEOUT_USEC=45000000'],
      ['STOPPING=1', 'STATUS=draining'],
    ]);
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('does not resolve until the manager has processed the message (the barrier)', async () => {
    const receiver = await startReceiver('path', 'hold');
    const logger = recordingLogger();
    const notifier = systemdNotifier({ NOTIFY_SOCKET: receiver.socket }, { logger });
    let resolved = false;
    const ready = notifier.ready().then(() => {
      resolved = true;
    });

    await waitFor('the barrier', () => withField(receiver.messages, 'BARRIER=1').length === 1);
    await sleep(300);
    expect(resolved).toBe(false);
    receiver.release();
    await ready;
    expect(receiver.released).toEqual([2]);
    // systemd-notify exited 0: the barrier was answered, not timed out.
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('without CAP_SYS_ADMIN (as in the worker unit) sends from its own PID, barrier and all', async () => {
    // setpriv drops CAP_SYS_ADMIN from the bounding set, so systemd-notify cannot claim our
    // PID and falls back to its own; exec keeps it our child, as the notifier spawns it.
    const wrapper = join(workDir, `notify-no-sys-admin-${randomBytes(4).toString('hex')}`);
    await writeFile(
      wrapper,
      '#!/bin/sh\nexec setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin systemd-notify "$@"\n',
    );
    await chmod(wrapper, 0o755);
    const receiver = await startReceiver('path');
    const logger = recordingLogger();
    const notifier = systemdNotifier(
      { NOTIFY_SOCKET: receiver.socket, PATH: process.env.PATH },
      { logger, command: wrapper },
    );

    await notifier.ready();
    await waitFor('READY=1 and the barrier', () => receiver.messages.length >= 2);

    expect(receiver.messages[0]?.fields).toEqual(['READY=1']);
    expect(receiver.messages[0]?.pid).toBeGreaterThan(0);
    expect(receiver.messages[0]?.pid).not.toBe(process.pid);
    expect(receiver.messages[1]).toMatchObject({ fields: ['BARRIER=1'], fds: 1 });
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('pings WATCHDOG=1 every WATCHDOG_USEC/2 while healthy, pauses while not, stops when told', async () => {
    const receiver = await startReceiver('path');
    const logger = recordingLogger();
    const notifier = systemdNotifier(
      { NOTIFY_SOCKET: receiver.socket, WATCHDOG_USEC: '300000', WATCHDOG_PID: String(process.pid) },
      { logger },
    );
    expect(notifier.watchdogMs).toBe(300);
    const pings = () => withField(receiver.messages, 'WATCHDOG=1').length;
    let healthy = true;
    const stop = notifier.startWatchdog(() => healthy);

    await waitFor('3 pings', () => pings() >= 3);

    healthy = false;
    await waitFor('the unhealthy warning', () =>
      logger.lines.some((l) => l.msg === 'unhealthy: not pinging the systemd watchdog'),
    );
    await notifier.status('unhealthy'); // queued after any ping already on its way
    const whileUnhealthy = pings();
    await sleep(1_000);
    expect(pings()).toBe(whileUnhealthy);

    healthy = true;
    await waitFor('pings again', () => pings() > whileUnhealthy);

    stop();
    await notifier.status('stopped');
    const afterStop = pings();
    await sleep(1_000);
    expect(pings()).toBe(afterStop);
  });

  it('sends no ping when WATCHDOG_PID names another process', async () => {
    const receiver = await startReceiver('path');
    const notifier = systemdNotifier({
      NOTIFY_SOCKET: receiver.socket,
      WATCHDOG_USEC: '200000',
      WATCHDOG_PID: String(process.pid + 1),
    });
    const stop = notifier.startWatchdog(() => true);
    await sleep(600);
    await notifier.status('probe');
    stop();
    expect(receiver.messages.map((m) => m.fields[0])).toEqual(['STATUS=probe', 'BARRIER=1']);
  });

  it('logs, and resolves, when nothing listens or the sender is missing', async () => {
    const logger = recordingLogger();
    const nobody = systemdNotifier({ NOTIFY_SOCKET: join(workDir, 'nobody.sock') }, { logger });
    await expect(nobody.ready()).resolves.toBeUndefined();
    const missing = systemdNotifier(
      { NOTIFY_SOCKET: join(workDir, 'nobody.sock') },
      { logger, command: join(workDir, 'no-such-systemd-notify') },
    );
    await expect(missing.stopping()).resolves.toBeUndefined();

    const warnings = logger.lines.filter((l) => l.level === 'warn' && l.msg === 'could not notify systemd');
    expect(warnings.map((w) => w.fields)).toEqual([['READY=1'], ['STOPPING=1']]);
    const [noListener, noSender] = warnings.map((w) => w.err as Error);
    expect(noListener?.message).toMatch(/^systemd-notify failed: .+/);
    expect((noSender?.cause as NodeJS.ErrnoException | undefined)?.code).toBe('ENOENT');
  });
});
