// The CLI's downloads and log reads over real HTTP into real files: verified bytes appear under
// their final name only, and every failure (mismatch, overlong body, stall, abort, HTTP error)
// leaves the output directory as it was.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AbortedError } from '@spotjobs/core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ArtifactMismatchError, CompileApiError, ServerUnreachableError } from '../src/cli/cli-errors.ts';
import { downloadArtifact } from '../src/cli/download.ts';
import { fetchLogTail } from '../src/cli/log-tail.ts';
import { tempDir } from './support/local-builds.ts';

const BYTES = randomBytes(300_000);
const SHA256 = createHash('sha256').update(BYTES).digest('hex');
const expected = { sha256: SHA256, size: BYTES.byteLength };

/** A blob server with one behaviour per path; `halfSent` resolves once /stall sent its first half. */
async function blobServer() {
  let halfSent!: () => void;
  const stalled = new Promise<void>((resolve) => {
    halfSent = resolve;
  });
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    open.add(res);
    res.once('close', () => open.delete(res));
    const path = req.url?.split('?')[0];
    switch (path) {
      case '/ok':
        res.writeHead(200, { 'content-length': BYTES.byteLength }).end(BYTES);
        return;
      case '/chunked':
        res.writeHead(200);
        res.write(BYTES.subarray(0, 1000));
        res.end(BYTES.subarray(1000));
        return;
      case '/longer':
        res.writeHead(200); // no content-length: only counting while reading can tell
        res.write(BYTES);
        res.end(randomBytes(5000));
        return;
      case '/other-length':
        res.writeHead(200, { 'content-length': 10 }).end(BYTES.subarray(0, 10));
        return;
      case '/stall':
        res.writeHead(200, { 'content-length': BYTES.byteLength });
        res.write(BYTES.subarray(0, 100_000), () => halfSent());
        return; // never ends
      case '/gone':
        res.writeHead(403, { 'content-type': 'text/plain' }).end('expired');
        return;
      default: {
        const log = path?.startsWith('/log-') ? logs.get(path) : undefined;
        if (log === undefined) res.writeHead(404).end();
        else res.writeHead(200, { 'content-length': Buffer.byteLength(log) }).end(log);
      }
    }
  });
  const logs = new Map<string, string>();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(async () => {
    for (const res of open) res.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, stalled, logs };
}

const never = new AbortController().signal;

describe('downloadArtifact', () => {
  it('writes the verified bytes under the final name only, replacing an older file', async () => {
    const blobs = await blobServer();
    const dir = await tempDir('spotjobs-cli-dl-');
    await writeFile(join(dir, 'ranger-1.8.1.tbz2'), 'stale');
    const progress: number[] = [];

    const file = await downloadArtifact({
      url: `${blobs.url}/chunked`,
      dir,
      fileName: 'ranger-1.8.1.tbz2',
      expected,
      signal: never,
      onProgress: (n) => progress.push(n),
    });

    expect(file).toEqual({ path: join(dir, 'ranger-1.8.1.tbz2'), sha256: SHA256, size: BYTES.byteLength });
    expect(await readFile(file.path)).toEqual(BYTES);
    expect(await readdir(dir)).toEqual(['ranger-1.8.1.tbz2']);
    expect(progress.at(-1)).toBe(BYTES.byteLength);
  });

  it.each([
    [
      'a different sha256',
      '/ok',
      { sha256: 'f'.repeat(64), size: BYTES.byteLength },
      /sha256 [0-9a-f]{64} differs/,
    ],
    [
      'more bytes than recorded (no content-length)',
      '/longer',
      expected,
      /more than the recorded 300000 bytes/,
    ],
    [
      'fewer bytes than recorded',
      '/ok',
      { sha256: SHA256, size: BYTES.byteLength + 1 },
      /sends 300000 bytes, the build recorded 300001/,
    ],
    ['another announced length', '/other-length', expected, /sends 10 bytes, the build recorded 300000/],
  ])('refuses %s and leaves nothing behind', async (_name, path, recorded, message) => {
    const blobs = await blobServer();
    const dir = await tempDir('spotjobs-cli-dl-');

    const download = downloadArtifact({
      url: `${blobs.url}${path}`,
      dir,
      fileName: 'p-1.tbz2',
      expected: recorded,
      signal: never,
    });

    await expect(download).rejects.toBeInstanceOf(ArtifactMismatchError);
    await expect(download).rejects.toThrow(message);
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes the partial file when aborted mid-transfer', async () => {
    const blobs = await blobServer();
    const dir = await tempDir('spotjobs-cli-dl-');
    const controller = new AbortController();

    const download = downloadArtifact({
      url: `${blobs.url}/stall`,
      dir,
      fileName: 'p-1.tbz2',
      expected,
      signal: controller.signal,
    });
    await blobs.stalled;
    await expect.poll(() => readdir(dir)).toHaveLength(1); // the partial file exists while it runs
    controller.abort(new Error('SIGINT'));

    await expect(download).rejects.toBeInstanceOf(AbortedError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails a transfer that stalls longer than the idle timeout, leaving nothing', async () => {
    const blobs = await blobServer();
    const dir = await tempDir('spotjobs-cli-dl-');

    const download = downloadArtifact({
      url: `${blobs.url}/stall`,
      dir,
      fileName: 'p-1.tbz2',
      expected,
      signal: never,
      idleTimeoutMs: 300,
    });

    await expect(download).rejects.toBeInstanceOf(ServerUnreachableError);
    await expect(download).rejects.toThrow(/stalled: no data for 0.3 s/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('reports an HTTP error of the link (an expired link) without the link’s signature', async () => {
    const blobs = await blobServer();
    const dir = await tempDir('spotjobs-cli-dl-');

    const download = downloadArtifact({
      url: `${blobs.url}/gone?sig=secret-signature`,
      dir,
      fileName: 'p-1.tbz2',
      expected,
      signal: never,
    });

    await expect(download).rejects.toBeInstanceOf(CompileApiError);
    await expect(download).rejects.toThrow(`download of ${blobs.url}/gone answered 403 Forbidden`);
    await expect(download).rejects.not.toThrow(/secret-signature/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a file name that could leave the directory or hide', async () => {
    const dir = await tempDir('spotjobs-cli-dl-');
    for (const fileName of ['../x.tbz2', '.hidden', 'a/b', ''])
      await expect(
        downloadArtifact({ url: 'http://127.0.0.1:1/x', dir, fileName, expected, signal: never }),
      ).rejects.toThrow(/unsafe artifact file name/);
  });
});

describe('fetchLogTail', () => {
  it('answers the last lines, escaped for a terminal, also when the server sends the whole log', async () => {
    const blobs = await blobServer();
    const long = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'x'.repeat(20)}`).join('\n');
    blobs.logs.set('/log-long', `${long}\n\u001b]0;owned\u0007last\n`);
    blobs.logs.set('/log-short', 'only\r\nthree\nlines');
    blobs.logs.set('/log-empty', '');

    const tail = await fetchLogTail(`${blobs.url}/log-long`, { signal: never, lines: 3 });
    const short = await fetchLogTail(`${blobs.url}/log-short`, { signal: never });
    const empty = await fetchLogTail(`${blobs.url}/log-empty`, { signal: never });
    const missing = await fetchLogTail(`${blobs.url}/log-missing`, { signal: never });
    const tooBig = await fetchLogTail(`${blobs.url}/log-long`, { signal: never, maxReadBytes: 1000 });

    const x = 'x'.repeat(20);
    expect(tail).toEqual([`line 19998 ${x}`, `line 19999 ${x}`, '\\x1b]0;owned\\x07last']);
    expect(short).toEqual(['only', 'three', 'lines']);
    expect(empty).toEqual([]);
    expect(missing).toBeUndefined();
    expect(tooBig).toBeUndefined();
  });
});
