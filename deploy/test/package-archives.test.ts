// The packaging's archive writers read back by independent readers: the zip by a reader written
// here from the format's description and by Python's zipfile, the tarball by Python's tarfile;
// both byte-identical when built twice. Also the launchers, run through symlinks, and the
// check of the Node runtime the host package ships.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unresolvedImports } from '../src/package-bundle.ts';
import { launcherScript } from '../src/package-launcher.ts';
import { unshippableNodeReason } from '../src/package-node-runtime.ts';
import { FIXED_MTIME, orderTarEntries, type TarEntry, writeTarGz } from '../src/package-tarball.ts';
import { zipArchive } from '../src/package-zip.ts';

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spotjobs-package-archives-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface ReadZipEntry {
  name: string;
  method: number;
  mode: number;
  data: Buffer;
}

/** A minimal zip reader: end record → central directory → local headers, CRC checked. */
function readZip(zip: Buffer): ReadZipEntry[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(end).toBe(zip.length - 22);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  expect(at + zip.readUInt32LE(end + 12)).toBe(end);
  const entries: ReadZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const mode = zip.readUInt32LE(at + 38) >>> 16;
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    expect(zip.readUInt32LE(local)).toBe(0x04034b50);
    expect(zip.subarray(local + 30, local + 30 + nameLength).toString('utf8')).toBe(name);
    const start = local + 30 + nameLength + zip.readUInt16LE(local + 28);
    const body = zip.subarray(start, start + compressed);
    const data = method === 8 ? inflateRawSync(body) : Buffer.from(body);
    expect(data.length).toBe(size);
    expect(crc32(data)).toBe(crc);
    entries.push({ name, method, mode, data });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

describe('zipArchive', () => {
  const text = Buffer.from('export const handler = async () => ({ statusCode: 200 });\n'.repeat(200));
  const noise = randomBytes(4096);
  const files = [
    { name: 'index.mjs', data: text },
    { name: 'lib/noise.bin', data: noise, mode: 0o755 },
    { name: 'empty.txt', data: Buffer.alloc(0) },
    { name: 'dossier/résumé.txt', data: Buffer.from('utf-8 name\n') },
  ];

  it('reads back every entry with its bytes, CRC, mode, and deflate only where it helps', () => {
    const entries = readZip(zipArchive(files));

    expect(entries.map((e) => e.name)).toEqual(files.map((f) => f.name));
    for (const [i, file] of files.entries()) expect(entries[i]!.data.equals(file.data)).toBe(true);
    expect(entries.map((e) => e.mode)).toEqual([0o100644, 0o100755, 0o100644, 0o100644]);
    expect(entries[0]!.method).toBe(8);
    expect(entries[1]!.method).toBe(0);
  });

  it("is read by Python's zipfile (CRC test, names, contents)", async () => {
    const file = join(dir, 'python.zip');
    await writeFile(file, zipArchive(files));
    const script =
      'import sys, zipfile, hashlib, json\n' +
      'z = zipfile.ZipFile(sys.argv[1])\n' +
      'assert z.testzip() is None\n' +
      'print(json.dumps({i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist()}))\n';
    const { stdout } = await run('python3', ['-c', script, file]);

    expect(JSON.parse(stdout)).toEqual(Object.fromEntries(files.map((f) => [f.name, sha256(f.data)])));
  });

  it('gives the same bytes for the same files', () => {
    expect(sha256(zipArchive(files))).toBe(
      sha256(zipArchive(files.map((f) => ({ ...f, data: Buffer.from(f.data) })))),
    );
  });

  it('refuses names that could escape the extraction directory, and duplicates', () => {
    for (const name of ['/etc/passwd', '../x', 'a/../../x', 'a\\b', '', 'a//b'])
      expect(() => zipArchive([{ name, data: Buffer.alloc(1) }])).toThrow(/relative/);
    expect(() => zipArchive([files[0]!, files[0]!])).toThrow(/duplicate zip entry: index.mjs/);
  });
});

describe('writeTarGz', () => {
  const entries: TarEntry[] = [
    { type: 'file', name: 'spotjobs/VERSION', data: Buffer.from('1.2.3\n') },
    { type: 'file', name: 'spotjobs/bin/tool', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
    { type: 'file', name: 'spotjobs/bin-extra/x', data: Buffer.from('x') },
    { type: 'file', name: 'spotjobs/systemd/system-sleep/hook', data: randomBytes(100_000), mode: 0o755 },
    { type: 'directory', name: 'spotjobs/empty', mode: 0o700 },
  ];

  it("is read by Python's tarfile: parents first in path order, root-owned, fixed mtime, modes kept", async () => {
    const file = join(dir, 'python.tar.gz');
    await writeTarGz(file, entries, AbortSignal.timeout(30_000));
    const script =
      'import sys, tarfile, hashlib, json\n' +
      't = tarfile.open(sys.argv[1], "r:gz")\n' +
      'print(json.dumps([[m.name, m.type.decode(), m.mode, m.uid, m.gid, m.uname, m.gname, m.mtime,\n' +
      '  hashlib.sha256(t.extractfile(m).read()).hexdigest() if m.isfile() else None] for m in t.getmembers()]))\n';
    const { stdout } = await run('python3', ['-c', script, file]);

    const mtime = FIXED_MTIME.getTime() / 1000;
    const dirRow = (name: string, mode = 0o755) => [name, '5', mode, 0, 0, 'root', 'root', mtime, null];
    const fileRow = (i: number, mode = 0o644) => {
      const e = entries[i] as Extract<TarEntry, { type: 'file' }>;
      return [e.name, '0', mode, 0, 0, 'root', 'root', mtime, sha256(e.data)];
    };
    expect(JSON.parse(stdout)).toEqual([
      dirRow('spotjobs'),
      fileRow(0),
      dirRow('spotjobs/bin'),
      fileRow(1, 0o755),
      dirRow('spotjobs/bin-extra'),
      fileRow(2),
      dirRow('spotjobs/empty', 0o700),
      dirRow('spotjobs/systemd'),
      dirRow('spotjobs/systemd/system-sleep'),
      fileRow(3, 0o755),
    ]);
  });

  it('gives the same bytes for the same entries, whatever order they are listed in', async () => {
    const a = join(dir, 'a.tar.gz');
    const b = join(dir, 'b.tar.gz');
    await writeTarGz(a, entries, AbortSignal.timeout(30_000));
    await writeTarGz(b, [...entries].reverse(), AbortSignal.timeout(30_000));

    expect(sha256(await readFile(a))).toBe(sha256(await readFile(b)));
  });

  it('refuses escaping names, duplicates and entries under a file', () => {
    expect(() => orderTarEntries([{ type: 'directory', name: '../up' }])).toThrow(/relative/);
    expect(() => orderTarEntries([entries[0]!, entries[0]!])).toThrow(/duplicate tar entry/);
    expect(() =>
      orderTarEntries([entries[0]!, { type: 'file', name: 'spotjobs/VERSION/x', data: Buffer.alloc(0) }]),
    ).toThrow(/lies under the file spotjobs\/VERSION/);
  });

  it('stops when aborted', async () => {
    await expect(
      writeTarGz(join(dir, 'aborted.tar.gz'), entries, AbortSignal.abort(new Error('stop now'))),
    ).rejects.toThrow(/stop now/);
  });
});

describe('launcherScript', () => {
  it('runs lib/<module> with the node beside it (bundled) when reached through a chain of symlinks', async () => {
    const root = join(dir, 'bundled-root');
    await mkdir(join(root, 'bin'), { recursive: true });
    await mkdir(join(root, 'lib'), { recursive: true });
    await writeFile(
      join(root, 'lib/probe.mjs'),
      'console.log(JSON.stringify([process.execPath, ...process.argv.slice(2)]));\n',
    );
    await writeFile(join(root, 'bin/probe-tool'), launcherScript('probe-tool', 'probe.mjs', 'bundled'));
    await chmod(join(root, 'bin/probe-tool'), 0o755);
    await symlink(process.execPath, join(root, 'bin/node'));
    const links = join(dir, 'links');
    await mkdir(links, { recursive: true });
    await symlink(join(root, 'bin/probe-tool'), join(links, 'hop1'));
    await symlink('hop1', join(links, 'hop2'));

    const env = { PATH: '/usr/bin:/bin' };
    const { stdout } = await run(join(links, 'hop2'), ['a b', '--flag'], { env });

    const [execPath, ...args] = JSON.parse(stdout) as string[];
    expect(args).toEqual(['a b', '--flag']);
    expect(execPath).toBe(process.execPath);
  });

  it('runs `node` from PATH (images), unless SPOTJOBS_NODE names one', async () => {
    const root = join(dir, 'path-root');
    await mkdir(join(root, 'bin'), { recursive: true });
    await mkdir(join(root, 'lib'), { recursive: true });
    await writeFile(join(root, 'lib/probe.mjs'), 'console.log(process.argv.slice(2).join(","));\n');
    await writeFile(join(root, 'bin/probe-tool'), launcherScript('probe-tool', 'probe.mjs', 'path'));
    await chmod(join(root, 'bin/probe-tool'), 0o755);
    const nodeDir = join(process.execPath, '..');

    const onPath = await run(join(root, 'bin/probe-tool'), ['x'], {
      env: { PATH: `${nodeDir}:/usr/bin:/bin` },
    });
    const named = await run(join(root, 'bin/probe-tool'), ['y'], {
      env: { PATH: '/usr/bin:/bin', SPOTJOBS_NODE: process.execPath },
    });

    expect(onPath.stdout).toBe('x\n');
    expect(named.stdout).toBe('y\n');
  });

  it('refuses names that would need quoting in the script', () => {
    expect(() => launcherScript('a b', 'x.mjs', 'path')).toThrow(/plain/);
    expect(() => launcherScript('tool', '$(id).mjs', 'path')).toThrow(/plain/);
  });
});

describe('unshippableNodeReason', () => {
  const base = { execPath: '/opt/node/bin/node', version: 'v24.21.0', platform: 'linux', arch: 'x64' };

  it('accepts Node 24 on linux-x64', () => {
    expect(unshippableNodeReason(base)).toBeUndefined();
  });

  it.each([
    [{ version: 'v22.13.0' }, /this is v22.13.0 on linux-x64/],
    [{ version: 'v25.0.0' }, /must be Node 24 on linux-x64; this is v25.0.0/],
    [{ arch: 'arm64' }, /this is v24.21.0 on linux-arm64/],
    [{ platform: 'darwin' }, /this is v24.21.0 on darwin-x64 \(\/opt\/node\/bin\/node\)/],
  ])('refuses %o, saying why', (change, reason) => {
    expect(unshippableNodeReason({ ...base, ...change })).toMatch(reason);
  });
});

describe('unresolvedImports', () => {
  it("names what a bundle would load at run time, apart from Node's builtins and the optional add-ons", () => {
    const imports = [
      { path: 'node:fs', kind: 'import-statement', external: true },
      { path: 'worker_threads', kind: 'require-call', external: true },
      { path: 'cpu-features', kind: 'require-call', external: true },
      { path: './crypto/build/Release/sshcrypto.node', kind: 'require-call', external: true },
      { path: 'pino-pretty', kind: 'require-call', external: true },
      { path: '@aws-sdk/client-sso', kind: 'dynamic-import', external: true },
      { path: 'packages/core/src/index.ts', kind: 'import-statement' },
    ] as const;

    expect(unresolvedImports([...imports])).toEqual(['pino-pretty', '@aws-sdk/client-sso']);
  });
});
