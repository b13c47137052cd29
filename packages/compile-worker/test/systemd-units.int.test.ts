import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:fs';
import {
  access,
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The systemd pieces for real: install.sh into a temporary root, systemd's own verdict on the
// installed units (systemd-analyze verify and security), and the launchers started through
// symlinks as systemd starts them.

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const systemdDir = join(repo, 'systemd');
const installSh = join(systemdDir, 'install.sh');
const launcher = (name: string) => join(repo, 'packages/compile-worker/bin', name);
const UNITS = ['spotjobs-compile-worker.service', 'spotjobs-compile-api.service'] as const;

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program (argv, no shell) and collects its exit code and output; never throws for an exit code. */
function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { env, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** The program's path on PATH (or a fixed path), or undefined: reported, never silently passed over. */
async function which(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const path = join(dir, name);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {}
  }
  return undefined;
}

const mode = async (path: string) => ((await lstat(path)).mode & 0o7777).toString(8).padStart(4, '0');

let scratch = '';
let counter = 0;
const freshDir = async (label: string) => {
  const dir = join(scratch, `${label}-${++counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
};

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'spotjobs-systemd-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('install.sh', () => {
  it('installs the units, the environment file and the sleep hook with their modes', async () => {
    const root = await freshDir('root');
    const ran = await run('bash', [installSh, '--root', root]);
    expect(ran.code, ran.stderr).toBe(0);

    for (const unit of UNITS) {
      const installed = join(root, 'etc/systemd/system', unit);
      expect(await mode(installed)).toBe('0644');
      expect(await readFile(installed, 'utf8')).toBe(await readFile(join(systemdDir, unit), 'utf8'));
    }
    const envFile = join(root, 'etc/spotjobs/compile.env');
    expect(await mode(envFile)).toBe('0600');
    expect(await readFile(envFile, 'utf8')).toBe(
      await readFile(join(systemdDir, 'spotjobs-compile.env'), 'utf8'),
    );
    const hook = join(root, 'usr/lib/systemd/system-sleep/spotjobs');
    expect(await mode(hook)).toBe('0755');
    expect(await readFile(hook, 'utf8')).toBe(
      await readFile(join(systemdDir, 'system-sleep/spotjobs'), 'utf8'),
    );
    // Not the running system: no daemon-reload. And nothing else, temporary files included.
    expect(ran.stderr).toMatch(/skipped systemctl daemon-reload/);
    const files = await run('find', [root, '-type', 'f', '-printf', '%P\n']);
    expect(files.stdout.trim().split('\n').sort()).toEqual([
      'etc/spotjobs/compile.env',
      'etc/systemd/system/spotjobs-compile-api.service',
      'etc/systemd/system/spotjobs-compile-worker.service',
      'usr/lib/systemd/system-sleep/spotjobs',
    ]);
  });

  it('keeps an edited environment file on a second run and puts the shipped one beside it', async () => {
    const root = await freshDir('root');
    expect((await run('bash', [installSh, '--root', root])).code).toBe(0);
    const envFile = join(root, 'etc/spotjobs/compile.env');
    const edited = 'SPOTJOBS_COMPILE_API_KEYS=k1-0123456789abcdef\n';
    await writeFile(envFile, edited);
    await chmod(envFile, 0o640);
    const unit = join(root, 'etc/systemd/system', UNITS[0]);
    await writeFile(unit, '# edited in place\n');

    const again = await run('bash', [installSh, '--root', root]);
    expect(again.code, again.stderr).toBe(0);

    expect(await readFile(envFile, 'utf8')).toBe(edited);
    expect(await mode(envFile)).toBe('0640');
    expect(await readFile(`${envFile}.dist`, 'utf8')).toBe(
      await readFile(join(systemdDir, 'spotjobs-compile.env'), 'utf8'),
    );
    expect(await mode(`${envFile}.dist`)).toBe('0600');
    // Units are the package's, not the admin's (drop-ins are): replaced.
    expect(await readFile(unit, 'utf8')).toBe(await readFile(join(systemdDir, UNITS[0]), 'utf8'));
    expect(again.stderr).toMatch(/kept .*compile\.env/);
  });

  it('writes --prefix into ExecStart only, and links the launchers with --link-launchers', async () => {
    const root = await freshDir('root');
    const ran = await run('bash', [
      installSh,
      `--root=${root}`,
      '--prefix',
      '/srv/spotjobs-1.2',
      '--link-launchers',
    ]);
    expect(ran.code, ran.stderr).toBe(0);

    for (const unit of UNITS) {
      const source = (await readFile(join(systemdDir, unit), 'utf8')).split('\n');
      const installed = (await readFile(join(root, 'etc/systemd/system', unit), 'utf8')).split('\n');
      const changed = installed.filter((line, i) => line !== source[i]);
      const name = unit.replace('.service', '');
      expect(changed).toEqual([`ExecStart=/srv/spotjobs-1.2/bin/${name}`]);
      const link = join(root, 'srv/spotjobs-1.2/bin', name);
      expect(await readlink(link)).toBe(launcher(name));
    }
  });

  it('refuses a bad prefix, an unknown argument or a missing root, and writes nothing', async () => {
    const root = await freshDir('root');
    for (const args of [
      ['--prefix', 'opt/spotjobs'],
      ['--prefix', '/opt/spot jobs'],
      ['--prefix', '/opt/../etc'],
      ['--prefix', '/opt/./spotjobs'],
      ['--prefix', '/opt/%n'],
      ['--prefix', '/opt/a|b'],
      ['--prefix', '/opt/a$(id)'],
      ['--prefix'],
      ['--frobnicate'],
    ]) {
      const ran = await run('bash', [installSh, '--root', root, ...args]);
      expect([args.join(' '), ran.code]).toEqual([args.join(' '), 1]);
      expect(ran.stderr).toMatch(/install\.sh: error: /);
    }
    expect((await run('bash', [installSh, '--root', join(root, 'missing')])).code).toBe(1);
    expect((await run('find', [root, '-mindepth', '1'])).stdout).toBe('');
  });

  it('passes bash -n and sh -n, and shellcheck where it is installed', async () => {
    expect((await run('bash', ['-n', installSh])).code).toBe(0);
    for (const name of ['spotjobs-compile-worker', 'spotjobs-compile-api'])
      expect((await run('sh', ['-n', launcher(name)])).code).toBe(0);
    const shellcheck = await which('shellcheck');
    if (!shellcheck) {
      console.warn(
        'shellcheck is not installed: install.sh and the launchers were only parsed (bash -n, sh -n)',
      );
      return;
    }
    const ran = await run(shellcheck, [installSh]);
    expect(ran.stdout + ran.stderr).toBe('');
    const launchers = await run(shellcheck, [
      '-s',
      'sh',
      launcher('spotjobs-compile-worker'),
      launcher('spotjobs-compile-api'),
    ]);
    expect(launchers.stdout + launchers.stderr).toBe('');
  });
});

describe('systemd-analyze on the installed units', () => {
  /**
   * Installs into a temporary root with the product "installed" under a prefix inside it, so
   * the units' ExecStart= names launchers that exist on this host: systemd-analyze verify
   * checks that the command is executable, and reads every other unit (docker.service,
   * network-online.target, multi-user.target) from this host.
   */
  async function installForAnalysis() {
    const root = await freshDir('analyze');
    const prefix = join(root, 'opt/spotjobs');
    const ran = await run('bash', [installSh, '--root', root, '--prefix', prefix]);
    expect(ran.code, ran.stderr).toBe(0);
    await mkdir(join(prefix, 'bin'), { recursive: true });
    for (const name of ['spotjobs-compile-worker', 'spotjobs-compile-api'])
      await symlink(launcher(name), join(prefix, 'bin', name));
    const unitDir = join(root, 'etc/systemd/system');
    // The worker Requires= docker.service. A host without Docker gets a stand-in beside the
    // units (systemd-analyze looks there first), and says so.
    const dockerUnits = [
      '/etc/systemd/system',
      '/run/systemd/system',
      '/usr/lib/systemd/system',
      '/lib/systemd/system',
    ];
    const hasDocker = await Promise.any(dockerUnits.map((d) => access(join(d, 'docker.service')))).then(
      () => true,
      () => false,
    );
    if (!hasDocker) {
      console.warn('no docker.service on this host: verifying against a stand-in docker.service');
      await writeFile(join(unitDir, 'docker.service'), '[Service]\nExecStart=/bin/true\n');
    }
    return { unitDir, units: UNITS.map((u) => join(unitDir, u)) };
  }

  it('verifies both units with systemd-analyze verify: exit 0 and not one complaint', async () => {
    const analyze = await which('systemd-analyze');
    if (!analyze) {
      console.warn(
        'SYSTEMD-ANALYZE IS NOT INSTALLED: the units were NOT verified by systemd (install Debian package `systemd`)',
      );
      return;
    }
    const { units, unitDir } = await installForAnalysis();
    const ran = await run(analyze, ['verify', ...units]);
    expect({ code: ran.code, output: ran.stdout + ran.stderr }).toEqual({ code: 0, output: '' });

    // The same check catches what systemd would ignore or refuse (a control for the one above).
    const broken = join(unitDir, 'spotjobs-compile-broken.service');
    const worker = await readFile(join(unitDir, UNITS[0]), 'utf8');
    await writeFile(
      broken,
      worker
        .replace(/^NotifyAccess=all$/m, 'NotifyAccess=everyone')
        .replace(/^WatchdogSec=.*$/m, 'WatchdogSec=a minute')
        .replace(/^ExecStart=.*$/m, `ExecStart=${join(unitDir, 'no-such-launcher')}`),
    );
    const complaint = await run(analyze, ['verify', broken]);
    const said = complaint.stdout + complaint.stderr;
    expect(said).toMatch(/notify access/i);
    expect(said).toMatch(/WatchdogSec|sec value/);
    expect(said).toMatch(/no-such-launcher/);
    expect(complaint.code).not.toBe(0);
  });

  it('rates both units at most 3.0 on systemd-analyze security (0 is the most locked down)', async () => {
    const analyze = await which('systemd-analyze');
    const offline = analyze ? (await run(analyze, ['--help'])).stdout.includes('--offline') : false;
    if (!analyze || !offline) {
      console.warn('systemd-analyze security --offline is not available (systemd < 250): exposure NOT rated');
      return;
    }
    const { units } = await installForAnalysis();
    for (const unit of units) {
      const ran = await run(analyze, ['security', '--offline=true', '--threshold=30', '--no-pager', unit]);
      const level = /Overall exposure level for \S+: ([0-9.]+)/.exec(ran.stdout)?.[1];
      expect([unit, Number(level)]).toEqual([unit, expect.any(Number)]);
      expect([unit, Number(level) <= 3.0, ran.code]).toEqual([unit, true, 0]);
    }
  });
});

describe('launchers', () => {
  /** A stand-in `node` that prints the PID it runs as and its arguments. */
  async function fakeNode(dir: string): Promise<string> {
    const path = join(dir, 'node');
    await writeFile(
      path,
      '#!/bin/sh\nprintf "pid=%s\\n" "$$"\nfor a in "$@"; do printf "arg=%s\\n" "$a"; done\n',
    );
    await chmod(path, 0o755);
    return path;
  }

  /** /opt/spotjobs/bin/<name> -> the launcher, and /usr/local/bin/<name> -> ../../../opt/... (relative). */
  async function linkedLauncher(name: string): Promise<string> {
    const root = await freshDir('links');
    await mkdir(join(root, 'opt/spotjobs/bin'), { recursive: true });
    await mkdir(join(root, 'usr/local/bin'), { recursive: true });
    await symlink(launcher(name), join(root, 'opt/spotjobs/bin', name));
    const outer = join(root, 'usr/local/bin', name);
    await symlink(`../../../opt/spotjobs/bin/${name}`, outer);
    return outer;
  }

  async function runToEnd(file: string, args: string[], env: NodeJS.ProcessEnv) {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    return { pid: child.pid, code, stdout, stderr };
  }

  it('finds the worker entry through a chain of symlinks and execs $SPOTJOBS_NODE on it', async () => {
    const node = await fakeNode(await freshDir('node'));
    const ran = await runToEnd(await linkedLauncher('spotjobs-compile-worker'), ['--extra', 'two words'], {
      PATH: '/usr/bin:/bin',
      SPOTJOBS_NODE: node,
    });
    expect(ran.code, ran.stderr).toBe(0);
    const binDir = await realpath(join(repo, 'packages/compile-worker/bin'));
    // exec all the way down: the process systemd started is the one that runs node.
    expect(ran.stdout).toBe(
      `pid=${ran.pid}\narg=${binDir}/../src/worker-main.ts\narg=--extra\narg=two words\n`,
    );
  });

  it('uses `node` on PATH when SPOTJOBS_NODE is not set (API launcher)', async () => {
    const dir = await freshDir('node');
    await fakeNode(dir);
    const ran = await runToEnd(await linkedLauncher('spotjobs-compile-api'), [], {
      PATH: `${dir}:/usr/bin:/bin`,
    });
    expect(ran.code, ran.stderr).toBe(0);
    const lines = ran.stdout.trim().split('\n');
    expect(lines[0]).toBe(`pid=${ran.pid}`);
    const entry = lines[1]?.replace(/^arg=/, '') ?? '';
    expect(await realpath(entry)).toBe(await realpath(join(repo, 'packages/compile-worker/src/api-main.ts')));
    expect(lines).toHaveLength(2);
  });

  it('starts the real API through a symlink: ready on a free port, exits 0 on SIGTERM', async () => {
    const dataDir = await freshDir('api-data');
    const child = spawn(await linkedLauncher('spotjobs-compile-api'), [], {
      env: {
        PATH: process.env.PATH,
        SPOTJOBS_NODE: process.execPath,
        SPOTJOBS_COMPILE_PORT: '0',
        SPOTJOBS_COMPILE_DATA_DIR: dataDir,
        SPOTJOBS_COMPILE_API_KEYS: `k-${'0'.repeat(20)}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      const lines: Record<string, unknown>[] = [];
      const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          const entry = JSON.parse(line) as Record<string, unknown>;
          lines.push(entry);
          if (entry.msg === 'spotjobs-compile-api ready') resolve(entry);
        });
        void exited.then(([code]) => reject(new Error(`API exited ${code} before ready: ${stderr}`)));
      });
      const entry = await ready;
      expect(String(entry.url)).toMatch(/^http:\/\/127\.0\.0\.1:[1-9][0-9]*$/);
      // The launcher exec'd node: the PID systemd would watch is node's.
      expect(await realpath(`/proc/${child.pid}/exe`)).toBe(await realpath(process.execPath));
      const answer = await fetch(`${String(entry.url)}/LATEST/package?package=app-misc/hello&version=1.0`);
      expect(answer.status).toBeLessThan(500);
      await answer.arrayBuffer();

      child.kill('SIGTERM');
      const [code, signal] = await exited;
      expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
      expect(lines.some((l) => l.msg === 'stopping' && l.signal === 'SIGTERM')).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
