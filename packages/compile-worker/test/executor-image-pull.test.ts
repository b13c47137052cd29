// ensureImage: use the image the engine has, or pull it with progress, against a fake engine.
import { Readable } from 'node:stream';
import { AbortedError } from '@spotjobs/core';
import { ManualClock, recordingLogger } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import { BuildEngineError } from '../src/executor/build-engine-error.ts';
import { ensureImage, type ImageApi, type PullProgress } from '../src/executor/image-puller.ts';

function httpError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { statusCode });
}

/**
 * An engine that has `images` (local-only: no registry digests) and answers a pull of anything
 * with `pullLines`, then has it with a registry digest. `onPullLine` runs as each line is read.
 */
function fakeEngine(options: {
  images?: string[];
  pullLines?: string[];
  inspectError?: Error;
  onPullLine?: (index: number) => Promise<void>;
}) {
  const images = new Set(options.images ?? []);
  const pulled = new Set<string>();
  const pulls: { ref: string; auth: unknown }[] = [];
  const api: ImageApi = {
    getImage: (name) => ({
      inspect: async () => {
        if (options.inspectError) throw options.inspectError;
        if (!images.has(name)) throw httpError(404, `no such image: ${name}`);
        const repoDigests = pulled.has(name) ? [`${name.split(':')[0]}@sha256:digest-of-${name}`] : [];
        return { Id: `sha256:id-of-${name}`, RepoDigests: repoDigests };
      },
    }),
    pull: async (ref, { abortSignal, auth }) => {
      pulls.push({ ref, auth });
      abortSignal.throwIfAborted();
      const lines = options.pullLines ?? [];
      if (!lines.some((l) => l.includes('"error"'))) {
        images.add(ref);
        pulled.add(ref);
      }
      if (options.onPullLine) {
        const onPullLine = options.onPullLine;
        // A bare async generator (what ensureImage iterates): each line is produced only once
        // the one before it was handled, so the clock moves exactly between lines.
        const paced = async function* () {
          for (const [index, line] of lines.entries()) {
            await onPullLine(index);
            yield Buffer.from(`${line}\r\n`);
          }
        };
        return paced() as unknown as NodeJS.ReadableStream;
      }
      // Chunks cut mid-line, as a socket would deliver them.
      const text = lines.join('\r\n');
      return Readable.from([text.slice(0, 7), text.slice(7, 40), text.slice(40)].filter(Boolean));
    },
  };
  return { api, pulls };
}

describe('ensureImage', () => {
  it('uses an image the engine already has, without pulling', async () => {
    const engine = fakeEngine({ images: ['builder:1'] });

    const got = await ensureImage(engine.api, 'builder:1', { signal: AbortSignal.timeout(5000) });

    expect(got).toEqual({ id: 'sha256:id-of-builder:1', repoDigests: [], pulled: false });
    expect(engine.pulls).toEqual([]);
  });

  it('pulls a missing image, reporting every progress event', async () => {
    const engine = fakeEngine({
      pullLines: [
        JSON.stringify({ status: 'Pulling from gentoo/stage3', id: 'latest' }),
        JSON.stringify({ status: 'Pulling fs layer', id: 'aaa' }),
        JSON.stringify({ status: 'Downloading', id: 'aaa', progressDetail: { current: 10, total: 100 } }),
        JSON.stringify({ status: 'Downloading', id: 'aaa', progressDetail: { current: 100, total: 100 } }),
        JSON.stringify({ status: 'Pull complete', id: 'aaa' }),
        JSON.stringify({ status: 'Status: Downloaded newer image for gentoo/stage3:latest' }),
      ],
    });
    const events: PullProgress[] = [];
    const logger = recordingLogger();

    const got = await ensureImage(engine.api, 'gentoo/stage3:latest', {
      signal: AbortSignal.timeout(5000),
      onProgress: (event) => events.push(event),
      auth: { username: 'u', password: 'p' },
      logger,
    });

    expect(got).toEqual({
      id: 'sha256:id-of-gentoo/stage3:latest',
      repoDigests: ['gentoo/stage3@sha256:digest-of-gentoo/stage3:latest'],
      pulled: true,
    });
    expect(engine.pulls).toEqual([{ ref: 'gentoo/stage3:latest', auth: { username: 'u', password: 'p' } }]);
    expect(events).toHaveLength(6);
    expect(events[2]).toEqual({
      image: 'gentoo/stage3:latest',
      status: 'Downloading',
      layer: 'aaa',
      current: 10,
      total: 100,
    });
    // The log gets each layer's status changes, not every byte count.
    expect(logger.lines.filter((l) => l.msg === 'pull: Downloading')).toHaveLength(1);
    expect(logger.lines.map((l) => l.msg)).toEqual([
      'image missing: pulling',
      'pull: Pulling from gentoo/stage3',
      'pull: Pulling fs layer',
      'pull: Downloading',
      'pull: Pull complete',
      'pull: Status: Downloaded newer image for gentoo/stage3:latest',
      'image pulled',
    ]);
  });

  it('logs the bytes downloaded at most once per interval while a pull runs', async () => {
    const clock = new ManualClock();
    const downloading = (layer: string, current: number) =>
      JSON.stringify({
        status: 'Downloading',
        id: layer,
        progressDetail: { current, total: 100_000_000 },
      });
    const lines = [
      JSON.stringify({ status: 'Pulling fs layer', id: 'aaa' }),
      JSON.stringify({ status: 'Pulling fs layer', id: 'bbb' }),
      downloading('aaa', 10_000_000), // t = 0
      downloading('bbb', 20_000_000), // t = 2 s
      downloading('aaa', 40_000_000), // t = 5 s: a line (40 + 20)
      downloading('bbb', 50_000_000), // t = 7 s
      JSON.stringify({ status: 'Download complete', id: 'aaa' }),
      downloading('bbb', 90_000_000), // t = 10 s: a line (100 + 90), layer aaa counted whole
    ];
    const at = [0, 0, 0, 2000, 5000, 7000, 7000, 10_000];
    const engine = fakeEngine({
      pullLines: lines,
      onPullLine: (index) => clock.advance((at[index] ?? 0) - clock.monotonic()),
    });
    const logger = recordingLogger();

    await ensureImage(engine.api, 'big/builder:1', {
      signal: AbortSignal.timeout(5000),
      logger,
      clock,
      progressLogIntervalMs: 5000,
    });

    expect(logger.lines.filter((l) => l.msg?.includes('MB downloaded')).map((l) => l.msg)).toEqual([
      'pull: 60.0 of 200.0 MB downloaded (layers started so far)',
      'pull: 190.0 of 200.0 MB downloaded (layers started so far)',
    ]);
  });

  it('fails with BuildEngineError when the pull reports an error midway', async () => {
    const engine = fakeEngine({
      pullLines: [
        JSON.stringify({ status: 'Pulling fs layer', id: 'aaa' }),
        JSON.stringify({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' }),
      ],
    });

    const err = await ensureImage(engine.api, 'nope:1', { signal: AbortSignal.timeout(5000) }).catch(
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(BuildEngineError);
    expect(err).toMatchObject({ stage: 'image', message: 'image: pulling image nope:1: manifest unknown' });
  });

  it('fails with BuildEngineError when the engine cannot be asked', async () => {
    const engine = fakeEngine({ inspectError: new Error('connect ENOENT /var/run/docker.sock') });

    const err = await ensureImage(engine.api, 'builder:1', { signal: AbortSignal.timeout(5000) }).catch(
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(BuildEngineError);
    expect((err as Error).message).toContain('connect ENOENT');
  });

  it('rejects with AbortedError when aborted', async () => {
    const engine = fakeEngine({ pullLines: [] });
    const abort = new AbortController();
    abort.abort(new Error('shutdown'));

    const err = await ensureImage(engine.api, 'builder:2', { signal: abort.signal }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AbortedError);
  });
});
