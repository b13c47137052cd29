// ensureImage: use the image the engine has, or pull it with progress, against a fake engine.
import { Readable } from 'node:stream';
import { AbortedError } from '@spotjobs/core';
import { recordingLogger } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import { BuildEngineError } from '../src/executor/build-engine-error.ts';
import { ensureImage, type ImageApi, type PullProgress } from '../src/executor/image-puller.ts';

function httpError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { statusCode });
}

/** An engine that has `images` and answers a pull of anything with `pullLines` (then has it). */
function fakeEngine(options: { images?: string[]; pullLines?: string[]; inspectError?: Error }) {
  const images = new Set(options.images ?? []);
  const pulls: { ref: string; auth: unknown }[] = [];
  const api: ImageApi = {
    getImage: (name) => ({
      inspect: async () => {
        if (options.inspectError) throw options.inspectError;
        if (!images.has(name)) throw httpError(404, `no such image: ${name}`);
        return { Id: `sha256:id-of-${name}` };
      },
    }),
    pull: async (ref, { abortSignal, auth }) => {
      pulls.push({ ref, auth });
      abortSignal.throwIfAborted();
      const lines = options.pullLines ?? [];
      if (!lines.some((l) => l.includes('"error"'))) images.add(ref);
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

    expect(got).toEqual({ id: 'sha256:id-of-builder:1', pulled: false });
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

    expect(got).toEqual({ id: 'sha256:id-of-gentoo/stage3:latest', pulled: true });
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
