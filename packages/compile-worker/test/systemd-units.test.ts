import { readFileSync } from 'node:fs';
import { dirname, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultSleepHookSocketPath } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';

// The unit files and the environment file read as text: every directive the daemon relies on
// is there with a sane value, and the environment file documents exactly the variables the
// programs and launchers read. systemd's own verdict (systemd-analyze) and install.sh are in
// systemd-units.int.test.ts.

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(`${repo}${path}`, 'utf8');

/** A unit file as systemd reads it: sections of directives, a repeated directive keeps every value. */
type Unit = Map<string, Map<string, string[]>>;

function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.endsWith('\\')) throw new Error(`line ${index + 1}: continuation lines are not used here`);
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header?.[1]) {
      section = new Map();
      unit.set(header[1], section);
      continue;
    }
    const directive = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!directive?.[1] || directive[2] === undefined || !section)
      throw new Error(`line ${index + 1} is not a directive in a section: ${raw}`);
    section.set(directive[1], [...(section.get(directive[1]) ?? []), directive[2].trim()]);
  }
  return unit;
}

/** The last value of a directive (systemd's rule for single-valued settings). */
function value(unit: Unit, section: string, key: string): string | undefined {
  return unit.get(section)?.get(key)?.at(-1);
}

/** Every value of a list directive, split on spaces (an empty assignment resets the list). */
function list(unit: Unit, section: string, key: string): string[] {
  let items: string[] = [];
  for (const v of unit.get(section)?.get(key) ?? []) items = v === '' ? [] : [...items, ...v.split(/\s+/)];
  return items;
}

/** A systemd time span in seconds: `90`, `90s`, `10min`, `1min 30s`, `500ms`. */
function seconds(span: string | undefined): number {
  if (span === undefined) return Number.NaN;
  const units: Record<string, number> = { '': 1, s: 1, sec: 1, ms: 0.001, m: 60, min: 60, h: 3600 };
  let total = 0;
  for (const part of span.trim().split(/\s+/)) {
    const m = /^(\d+)([a-z]*)$/.exec(part);
    const unit = m?.[2] !== undefined ? units[m[2]] : undefined;
    if (!m?.[1] || unit === undefined) return Number.NaN;
    total += Number(m[1]) * unit;
  }
  return total;
}

/** The environment file's variables: `#NAME=value` (documented default or example) or `NAME=value`. */
interface EnvVariable {
  readonly name: string;
  readonly value: string;
  /** The comment lines of its paragraph, without the `# `. */
  readonly prose: string[];
  /** How many variables share the paragraph. */
  readonly siblings: number;
}

function parseEnvFile(text: string): EnvVariable[] {
  const variables: EnvVariable[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    const lines = paragraph.split('\n').filter((l) => l.trim() !== '');
    const prose: string[] = [];
    const vars: { name: string; value: string }[] = [];
    for (const line of lines) {
      const assignment = /^#?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      if (assignment?.[1] && assignment[2] !== undefined)
        vars.push({ name: assignment[1], value: assignment[2] });
      else if (line.startsWith('#')) prose.push(line.replace(/^# ?/, ''));
      else throw new Error(`not a comment nor an assignment: ${line}`);
    }
    for (const v of vars) variables.push({ ...v, prose, siblings: vars.length });
  }
  return variables;
}

const worker = parseUnit(read('systemd/spotjobs-compile-worker.service'));
const api = parseUnit(read('systemd/spotjobs-compile-api.service'));
const envText = read('systemd/spotjobs-compile.env');
const env = parseEnvFile(envText);
const envDefault = (name: string) => env.find((v) => v.name === name)?.value;

// The daemon's stop sequence (src/daemon/compile-daemon.ts, src/executor): builds may finish
// for the shutdown grace, then are aborted; the runner gives an aborted build 20 s, which holds
// the executor's 10 s container stop; then messages are released and logs flushed.
const RUNNER_ABORT_GRACE_SECONDS = 20;
const CONTAINER_STOP_TIMEOUT_SECONDS = 10;
const RELEASE_AND_FLUSH_SECONDS = 10;

// The daemon's variables (src/config.ts is growing them; these are the agreed names), the
// request path's (read from src/config.ts), and the launchers' own.
const DAEMON_VARIABLES = [
  'SPOTJOBS_COMPILE_BACKEND',
  'SPOTJOBS_COMPILE_LOG_LEVEL',
  'SPOTJOBS_COMPILE_DATA_DIR',
  'SPOTJOBS_COMPILE_QUEUE_URL',
  'SPOTJOBS_COMPILE_DLQ_URL',
  'SPOTJOBS_COMPILE_TABLE',
  'SPOTJOBS_COMPILE_BUCKET',
  'SPOTJOBS_COMPILE_BUCKET_PREFIX',
  'SPOTJOBS_COMPILE_IMAGE_DIGEST',
  'SPOTJOBS_COMPILE_ARCH',
  'SPOTJOBS_COMPILE_MAKECONF_PROFILE',
  'SPOTJOBS_COMPILE_API_KEYS',
  'SPOTJOBS_COMPILE_HOST',
  'SPOTJOBS_COMPILE_PORT',
  'SPOTJOBS_COMPILE_WORKER_ID',
  'SPOTJOBS_COMPILE_CONCURRENCY',
  'SPOTJOBS_COMPILE_EXECUTOR',
  'SPOTJOBS_COMPILE_BUILDER_IMAGE',
  'SPOTJOBS_COMPILE_WORK_DIR',
  'SPOTJOBS_COMPILE_CACHE_DIR',
  'SPOTJOBS_COMPILE_CACHE_MAX_GIB',
  'SPOTJOBS_COMPILE_TREE_DIR',
  'SPOTJOBS_COMPILE_BUILD_MEMORY_MIB',
  'SPOTJOBS_COMPILE_BUILD_CPUS',
  'SPOTJOBS_COMPILE_BUILD_PIDS',
  'SPOTJOBS_COMPILE_BUILD_TIMEOUT_SECONDS',
  'SPOTJOBS_COMPILE_BUILD_NETWORK',
  'SPOTJOBS_COMPILE_VISIBILITY_SECONDS',
  'SPOTJOBS_COMPILE_SHUTDOWN_GRACE_SECONDS',
  'SPOTJOBS_COMPILE_IMDS',
  'SPOTJOBS_COMPILE_HIBERNATE',
  'SPOTJOBS_COMPILE_HIBERNATE_HOLD_SECONDS',
  'SPOTJOBS_SLEEP_SOCKET',
  'SPOTJOBS_COMPILE_HEALTH_PORT',
  'SPOTJOBS_COMPILE_CRON_TREE_REFRESH',
  'SPOTJOBS_COMPILE_CRON_PRUNE',
  'SPOTJOBS_COMPILE_CRON_RECLAIM',
  'SPOTJOBS_COMPILE_FAILED_RETRY_AFTER_SECONDS',
  'SPOTJOBS_COMPILE_STUCK_AFTER_SECONDS',
];
const configSource = read('packages/compile-worker/src/config.ts');
const CONFIG_VARIABLES = [...new Set(configSource.match(/\bSPOTJOBS_[A-Z0-9_]*[A-Z0-9]\b/g) ?? [])];
const launcherVariables = (name: string) => [
  ...new Set(read(`packages/compile-worker/bin/${name}`).match(/\$\{?(SPOTJOBS_[A-Z0-9_]+)/g) ?? []),
];
const LAUNCHER_VARIABLES = [
  ...new Set(
    ['spotjobs-compile-worker', 'spotjobs-compile-api']
      .flatMap(launcherVariables)
      .map((v) => v.replace(/^\$\{?/, '')),
  ),
];

/** Whether `path` is writable under ProtectSystem=strict: in ReadWritePaths or a systemd-made directory. */
function writable(unit: Unit, path: string): boolean {
  const roots = [
    ...list(unit, 'Service', 'ReadWritePaths').map((p) => p.replace(/^[-+]/, '')),
    ...list(unit, 'Service', 'StateDirectory').map((d) => `/var/lib/${d}`),
    ...list(unit, 'Service', 'CacheDirectory').map((d) => `/var/cache/${d}`),
    ...list(unit, 'Service', 'LogsDirectory').map((d) => `/var/log/${d}`),
    ...list(unit, 'Service', 'RuntimeDirectory').map((d) => `/run/${d}`),
  ];
  const normal = posix.normalize(path);
  return roots.some((root) => normal === root || normal.startsWith(`${root}/`));
}

describe('spotjobs-compile-worker.service', () => {
  const service = (key: string) => value(worker, 'Service', key);

  it('is a notify service with a watchdog, restarted on failure, started by the launcher', () => {
    expect(service('Type')).toBe('notify');
    // systemd-notify sends from its own PID without CAP_SYS_ADMIN (see systemdNotifier).
    expect(service('NotifyAccess')).toBe('all');
    expect(list(worker, 'Service', 'CapabilityBoundingSet')).not.toContain('CAP_SYS_ADMIN');
    const watchdog = seconds(service('WatchdogSec'));
    expect(watchdog).toBeGreaterThanOrEqual(10);
    expect(watchdog).toBeLessThanOrEqual(300);
    expect(service('Restart')).toBe('on-failure');
    expect(service('ExecStart')).toBe('/opt/spotjobs/bin/spotjobs-compile-worker');
    expect(service('EnvironmentFile')).toBe('-/etc/spotjobs/compile.env');
  });

  it('gives the drain time to finish before SIGKILL, and signals the main process first', () => {
    const grace = Number(envDefault('SPOTJOBS_COMPILE_SHUTDOWN_GRACE_SECONDS'));
    expect(grace).toBe(30);
    expect(CONTAINER_STOP_TIMEOUT_SECONDS).toBeLessThan(RUNNER_ABORT_GRACE_SECONDS);
    expect(seconds(service('TimeoutStopSec'))).toBeGreaterThanOrEqual(
      grace + RUNNER_ABORT_GRACE_SECONDS + RELEASE_AND_FLUSH_SECONDS,
    );
    expect(service('KillMode')).toBe('mixed');
    expect(service('KillSignal') ?? 'SIGTERM').toBe('SIGTERM');
  });

  it('needs Docker and starts after it', () => {
    expect(list(worker, 'Unit', 'Requires')).toContain('docker.service');
    expect(list(worker, 'Unit', 'After')).toContain('docker.service');
  });

  it('is hardened and still reaches Docker, the sleep hook and the network', () => {
    for (const [key, expected] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['PrivateDevices', 'yes'],
      ['ProtectKernelTunables', 'yes'],
      ['ProtectKernelModules', 'yes'],
      ['ProtectKernelLogs', 'yes'],
      ['ProtectControlGroups', 'yes'],
      ['LockPersonality', 'yes'],
      ['RestrictSUIDSGID', 'yes'],
      ['RestrictRealtime', 'yes'],
      ['SystemCallArchitectures', 'native'],
    ] as const)
      expect([key, service(key)]).toEqual([key, expected]);
    expect(list(worker, 'Service', 'RestrictAddressFamilies').sort()).toEqual(
      ['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX'].sort(),
    );
    // V8's JIT writes code pages: this would kill node.
    expect(service('MemoryDenyWriteExecute') ?? 'no').toBe('no');
    // /run/docker.sock is reached by connect(), which a read-only /run allows; hiding /run would not.
    for (const key of ['InaccessiblePaths', 'TemporaryFileSystem'])
      expect(list(worker, 'Service', key).filter((p) => p.includes('/run'))).toEqual([]);
  });

  it('can write its data, cache, work, tree and sleep-hook socket directories, and only those', () => {
    const dataDir = loadConfig({}).local.dataDir;
    expect(envDefault('SPOTJOBS_COMPILE_DATA_DIR')).toBe(dataDir);
    expect(envDefault('SPOTJOBS_SLEEP_SOCKET')).toBe(defaultSleepHookSocketPath);
    for (const path of [
      dataDir,
      envDefault('SPOTJOBS_COMPILE_WORK_DIR') ?? '',
      envDefault('SPOTJOBS_COMPILE_CACHE_DIR') ?? '',
      envDefault('SPOTJOBS_COMPILE_TREE_DIR') ?? '',
      dirname(defaultSleepHookSocketPath),
    ])
      expect([path, writable(worker, path)]).toEqual([path, true]);
    for (const path of ['/etc/spotjobs', '/usr/lib', '/var/lib/docker', '/run/systemd', '/opt/spotjobs'])
      expect([path, writable(worker, path)]).toEqual([path, false]);
    expect(service('RuntimeDirectory')).toBe(dirname(defaultSleepHookSocketPath).replace(/^\/run\//, ''));
  });

  it('is installed into multi-user.target', () => {
    expect(value(worker, 'Install', 'WantedBy')).toBe('multi-user.target');
  });
});

describe('spotjobs-compile-api.service', () => {
  const service = (key: string) => value(api, 'Service', key);

  it('starts the API launcher with the shared environment file and state directory', () => {
    expect(service('ExecStart')).toBe('/opt/spotjobs/bin/spotjobs-compile-api');
    expect(service('EnvironmentFile')).toBe('-/etc/spotjobs/compile.env');
    expect(service('Type')).toBe('exec');
    expect(service('Restart')).toBe('on-failure');
    // The embedded store is shared with the worker: same directory, same user.
    expect(list(api, 'Service', 'StateDirectory')).toEqual(list(worker, 'Service', 'StateDirectory'));
    expect(service('User')).toBe(value(worker, 'Service', 'User'));
    expect(writable(api, loadConfig({}).local.dataDir)).toBe(true);
  });

  it('is hardened and cannot reach the Docker socket', () => {
    expect(service('NoNewPrivileges')).toBe('yes');
    expect(service('ProtectSystem')).toBe('strict');
    expect(service('ProtectHome')).toBe('yes');
    expect(service('PrivateTmp')).toBe('yes');
    // No capability at all, and no AF_UNIX: root's Docker socket is out of reach.
    expect(api.get('Service')?.get('CapabilityBoundingSet')).toEqual(['']);
    const families = list(api, 'Service', 'RestrictAddressFamilies');
    expect(families).toContain('AF_INET');
    expect(families).not.toContain('AF_UNIX');
    // So no sd_notify either: a notify unit would never become ready.
    expect(service('Type')).not.toBe('notify');
    expect(writable(api, '/var/cache/spotjobs-compile')).toBe(false);
    expect(writable(api, '/run/spotjobs')).toBe(false);
  });
});

describe('spotjobs-compile.env', () => {
  it('names exactly the variables the programs and launchers read', () => {
    const expected = [...new Set([...DAEMON_VARIABLES, ...CONFIG_VARIABLES, ...LAUNCHER_VARIABLES])].sort();
    expect(LAUNCHER_VARIABLES).toEqual(['SPOTJOBS_NODE']);
    expect(CONFIG_VARIABLES).toContain('SPOTJOBS_COMPILE_BACKEND');
    expect(env.map((v) => v.name).sort()).toEqual(expected);
  });

  it('documents every variable with what it does and its default, and sets none', () => {
    for (const variable of env) {
      const prose = variable.prose.join(' ');
      expect([variable.name, prose.length > 20]).toEqual([variable.name, true]);
      expect([variable.name, /Defaults?:/.test(prose)]).toEqual([variable.name, true]);
    }
    // Every assignment is commented out: the programs' own defaults apply until an admin decides.
    expect(envText.split('\n').filter((l) => /^[A-Z]/.test(l))).toEqual([]);
  });

  it('shows the programs’ real defaults', () => {
    const baseline = loadConfig({});
    const known = new Set(CONFIG_VARIABLES);
    let compared = 0;
    for (const variable of env) {
      if (variable.siblings !== 1 || !known.has(variable.name)) continue;
      const documented = /Default: (.+)$/.exec(variable.prose.join(' '))?.[1]?.trim();
      if (documented === undefined || documented !== variable.value) continue;
      expect([variable.name, loadConfig({ [variable.name]: variable.value })]).toEqual([
        variable.name,
        baseline,
      ]);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(10);
  });

  it('gives examples the programs accept', () => {
    const known = new Set(CONFIG_VARIABLES);
    for (const variable of env) {
      if (!known.has(variable.name) || variable.value === '') continue;
      expect(() => loadConfig({ [variable.name]: variable.value }), variable.name).not.toThrow();
    }
  });
});
