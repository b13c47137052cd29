import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.ts';
import { type SystemdNotifySend, systemdNotifier } from '../src/observability/systemd-notifier.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { recordingLogger } from '../src/testing/recording-logger.ts';

// The notifier's rules with a recording sender and a manual clock; the real sender
// (systemd-notify to a real datagram socket) is in systemd-notifier.int.test.ts.

interface Recorder {
  readonly sent: string[][];
  readonly send: SystemdNotifySend;
}

function recorder(): Recorder {
  const sent: string[][] = [];
  return {
    sent,
    send: async (fields) => {
      sent.push([...fields]);
    },
  };
}

const socketEnv = { NOTIFY_SOCKET: '/run/systemd/notify' };
const PID = 4242;

function setup(env: Record<string, string | undefined> = socketEnv) {
  const rec = recorder();
  const clock = new ManualClock();
  const logger = recordingLogger();
  const notifier = systemdNotifier(env, { send: rec.send, clock, logger, pid: PID });
  return { rec, clock, logger, notifier };
}

describe('systemdNotifier: when systemd listens', () => {
  it('is disabled without NOTIFY_SOCKET, sends nothing and still checks arguments', async () => {
    const { rec, notifier, clock } = setup({ WATCHDOG_USEC: '1000000' });
    expect(notifier.enabled).toBe(false);
    expect(notifier.watchdogMs).toBeUndefined();
    await notifier.ready('up');
    await notifier.status('x');
    await notifier.stopping();
    await notifier.extendTimeout(1_000);
    const stop = notifier.startWatchdog(() => true);
    await clock.advance(10_000);
    stop();
    expect(rec.sent).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
    await expect(notifier.extendTimeout(0)).rejects.toBeInstanceOf(ValidationError);
  });

  it('accepts a path or an abstract socket, refuses anything else with a warning', () => {
    expect(setup({ NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify' }).notifier.enabled).toBe(true);
    expect(setup({ NOTIFY_SOCKET: '/run/systemd/notify' }).notifier.enabled).toBe(true);
    const relative = setup({ NOTIFY_SOCKET: 'run/notify' });
    expect(relative.notifier.enabled).toBe(false);
    expect(relative.logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', NOTIFY_SOCKET: 'run/notify' }),
    );
  });
});

describe('systemdNotifier: messages', () => {
  it('sends READY, STATUS, STOPPING and EXTEND_TIMEOUT_USEC fields', async () => {
    const { rec, notifier } = setup();
    await notifier.ready();
    await notifier.ready('polling compile');
    await notifier.status('2 builds running');
    await notifier.stopping('draining');
    await notifier.extendTimeout(45_000);
    expect(rec.sent).toEqual([
      ['READY=1'],
      ['READY=1', 'STATUS=polling compile'],
      ['STATUS=2 builds running'],
      ['STOPPING=1', 'STATUS=draining'],
      ['EXTEND_TIMEOUT_USEC=45000000'],
    ]);
  });

  it('keeps a status on one line, so it cannot add fields of its own', async () => {
    const { rec, notifier } = setup();
    await notifier.status('ok\nMAINPID=1\r\n\u0000READY=1\t');
    await notifier.status('x'.repeat(5_000));
    expect(rec.sent[0]).toEqual(['STATUS=ok MAINPID=1 READY=1']);
    const long = rec.sent[1]?.[0] ?? '';
    expect(long.length).toBeLessThanOrEqual('STATUS='.length + 1_024);
    expect(long.endsWith('…')).toBe(true);
  });

  it('rejects a bad timeout extension and sends nothing for it', async () => {
    const { rec, notifier } = setup();
    for (const bad of [0, -5, 1.5, Number.NaN, 86_400_001]) {
      await expect(notifier.extendTimeout(bad)).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(notifier.status(42 as unknown as string)).rejects.toBeInstanceOf(ValidationError);
    expect(rec.sent).toEqual([]);
  });

  it('sends one message at a time, in the order asked', async () => {
    const started: string[] = [];
    const finish: (() => void)[] = [];
    const send: SystemdNotifySend = (fields) =>
      new Promise<void>((resolve) => {
        started.push(fields.join(','));
        finish.push(resolve);
      });
    const notifier = systemdNotifier(socketEnv, { send, pid: PID });
    const ready = notifier.ready();
    const stopping = notifier.stopping();
    await settle();
    expect(started).toEqual(['READY=1']);
    finish[0]?.();
    await ready;
    await settle();
    expect(started).toEqual(['READY=1', 'STOPPING=1']);
    finish[1]?.();
    await stopping;
  });

  it('logs a failed send, resolves, and goes on with the next message', async () => {
    const sent: string[] = [];
    const logger = recordingLogger();
    const send: SystemdNotifySend = async (fields) => {
      if (fields[0] === 'READY=1') throw new Error('systemd-notify failed: No such file or directory');
      sent.push(fields.join(','));
    };
    const notifier = systemdNotifier(socketEnv, { send, logger, pid: PID });
    await expect(notifier.ready()).resolves.toBeUndefined();
    await notifier.status('after');
    expect(sent).toEqual(['STATUS=after']);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'could not notify systemd', fields: ['READY=1'] }),
    );
  });

  it('gives each send an abort signal that fires after timeoutMs', async () => {
    let seen: AbortSignal | undefined;
    const send: SystemdNotifySend = (_fields, signal) => {
      seen = signal;
      return new Promise<void>((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    };
    const logger = recordingLogger();
    const notifier = systemdNotifier(socketEnv, { send, logger, timeoutMs: 20, pid: PID });
    await notifier.ready();
    expect(seen?.aborted).toBe(true);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'could not notify systemd' }),
    );
  });

  it('refuses bad options', () => {
    expect(() => systemdNotifier(socketEnv, { timeoutMs: 0 })).toThrow(ValidationError);
    expect(() => systemdNotifier(socketEnv, { command: '' })).toThrow(ValidationError);
  });
});

describe('systemdNotifier: watchdog', () => {
  const watchdogEnv = { ...socketEnv, WATCHDOG_USEC: '10000000', WATCHDOG_PID: String(PID) };
  const pings = (rec: Recorder) => rec.sent.filter((f) => f[0] === 'WATCHDOG=1').length;

  it('pings at once, then every WatchdogSec / 2 while healthy, until stopped', async () => {
    const { rec, clock, notifier } = setup(watchdogEnv);
    expect(notifier.watchdogMs).toBe(10_000);
    const stop = notifier.startWatchdog(() => true);
    await clock.advance(0);
    expect(pings(rec)).toBe(1);
    await clock.advance(4_999);
    expect(pings(rec)).toBe(1);
    await clock.advance(1);
    expect(pings(rec)).toBe(2);
    await clock.advance(10_000);
    expect(pings(rec)).toBe(4);
    stop();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(60_000);
    expect(pings(rec)).toBe(4);
  });

  it('skips pings while unhealthy (a throw counts), logs once, and pings again when healthy', async () => {
    const { rec, clock, logger, notifier } = setup(watchdogEnv);
    let state: 'ok' | 'bad' | 'throws' = 'ok';
    const stop = notifier.startWatchdog(() => {
      if (state === 'throws') throw new Error('runner gone');
      return state === 'ok';
    });
    await clock.advance(0);
    state = 'bad';
    await clock.advance(5_000);
    state = 'throws';
    await clock.advance(5_000);
    expect(pings(rec)).toBe(1);
    expect(logger.lines.filter((l) => l.msg === 'unhealthy: not pinging the systemd watchdog')).toHaveLength(
      1,
    );
    state = 'ok';
    await clock.advance(5_000);
    expect(pings(rec)).toBe(2);
    stop();
  });

  it('does not pile pings up behind one systemd has not taken yet', async () => {
    const finish: (() => void)[] = [];
    const send: SystemdNotifySend = () => new Promise<void>((resolve) => finish.push(resolve));
    const clock = new ManualClock();
    const notifier = systemdNotifier(watchdogEnv, { send, clock, pid: PID });
    const stop = notifier.startWatchdog(() => true);
    await clock.advance(30_000);
    expect(finish).toHaveLength(1);
    finish[0]?.();
    await clock.advance(5_000);
    expect(finish).toHaveLength(2);
    stop();
    finish[1]?.();
  });

  it('stays off when WATCHDOG_PID names another process, or WATCHDOG_USEC is missing or bad', async () => {
    for (const env of [
      { ...watchdogEnv, WATCHDOG_PID: String(PID + 1) },
      socketEnv,
      { ...socketEnv, WATCHDOG_USEC: '0' },
      { ...socketEnv, WATCHDOG_USEC: '5s' },
    ]) {
      const { rec, clock, notifier } = setup(env);
      expect(notifier.watchdogMs).toBeUndefined();
      const stop = notifier.startWatchdog(() => true);
      await clock.advance(60_000);
      stop();
      expect(rec.sent).toEqual([]);
    }
  });

  it('is ours when WATCHDOG_PID is not set', () => {
    const { notifier } = setup({ ...socketEnv, WATCHDOG_USEC: '60000000' });
    expect(notifier.watchdogMs).toBe(60_000);
  });
});

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
