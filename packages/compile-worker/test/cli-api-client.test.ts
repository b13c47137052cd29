// The CLI's API client against a scripted fetch: answers checked against the API's shapes,
// error answers turned into typed errors, no redirect followed, aborts and timeouts told apart.
import { AbortedError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { CompileApiClient } from '../src/cli/api-client.ts';
import {
  CompileApiError,
  InvalidServerResponseError,
  ServerUnreachableError,
} from '../src/cli/cli-errors.ts';
import { buildViewFixture } from './support/build-view-fixture.ts';

const ID = 'ab'.repeat(32);
const KEY = 'client-test-key-0123456789';

/** What `toBuildView` answers for a queued build. */
function view(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  // The server sends more than the CLI reads (the profile): extra fields must not upset it.
  return {
    ...buildViewFixture(ID),
    profile: { imageDigest: 'unpinned', arch: 'amd64', makeConfProfile: 'pacloud-2018' },
    ...overrides,
  };
}

interface Seen {
  url: string;
  init: RequestInit;
}

function client(answer: (seen: Seen) => Response | Promise<Response>, options: { timeoutMs?: number } = {}) {
  const seen: Seen[] = [];
  const fakeFetch = (async (url: string | URL | Request, init?: RequestInit) => {
    const call = { url: String(url), init: init ?? {} };
    seen.push(call);
    return answer(call);
  }) as typeof fetch;
  const api = new CompileApiClient({
    baseUrl: 'http://api.test/LATEST/',
    apiKey: KEY,
    fetch: fakeFetch,
    ...(options.timeoutMs ? { requestTimeoutMs: options.timeoutMs } : {}),
  });
  return { api, seen };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const signal = new AbortController().signal;

describe('CompileApiClient', () => {
  it('submits with a bearer key to <base>/v1/builds and tells a created build from an existing one', async () => {
    const { api, seen } = client(() => json(201, view()));
    const existing = client(() => json(200, view()));

    const submitted = await api.submit({ atom: 'app-misc/ranger-1.8.1', use: '-test doc' }, signal);
    const again = await existing.api.submit({ atom: 'app-misc/ranger-1.8.1', use: '' }, signal);

    expect(submitted).toMatchObject({ created: true, build: { id: ID, state: 'queued' } });
    expect(again.created).toBe(false);
    expect(seen[0]!.url).toBe('http://api.test/LATEST/v1/builds');
    expect(seen[0]!.init).toMatchObject({
      method: 'POST',
      redirect: 'manual',
      body: '{"atom":"app-misc/ranger-1.8.1","use":"-test doc"}',
    });
    expect(seen[0]!.init.headers).toMatchObject({
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/json',
    });
  });

  it('reads builds, artifact and log links at their paths', async () => {
    const answers: Record<string, Response> = {
      [`/LATEST/v1/builds/${ID}`]: json(
        200,
        view({ state: 'ready', artifact: { sha256: 'c'.repeat(64), size: 3 } }),
      ),
      [`/LATEST/v1/builds/${ID}/artifact`]: json(200, {
        url: 'http://blobs.test/x.tbz2?sig=1',
        expiresAt: '2026-01-01T00:15:00.000Z',
        sha256: 'c'.repeat(64),
        size: 3,
      }),
      [`/LATEST/v1/builds/${ID}/log`]: json(200, {
        url: 'http://blobs.test/x.log',
        expiresAt: '2026-01-01T00:15:00.000Z',
      }),
    };
    const { api } = client(({ url }) => answers[new URL(url).pathname] ?? json(404, {}));

    expect((await api.getBuild(ID, signal)).artifact).toEqual({ sha256: 'c'.repeat(64), size: 3 });
    expect((await api.artifactLink(ID, signal)).url).toBe('http://blobs.test/x.tbz2?sig=1');
    expect((await api.logLink(ID, signal)).url).toBe('http://blobs.test/x.log');
  });

  it('turns the API’s error answer into CompileApiError with its code, field and message', async () => {
    const { api } = client(() =>
      json(400, {
        error: {
          code: 'INVALID_REQUEST',
          message: 'atom: "x" must be category/package-version',
          field: 'atom',
        },
      }),
    );

    const err = await api.submit({ atom: 'x', use: '' }, signal).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(CompileApiError);
    expect(err).toMatchObject({
      status: 400,
      code: 'INVALID_REQUEST',
      field: 'atom',
      message: 'atom: "x" must be category/package-version',
      transient: false,
      exitCode: 3,
    });
  });

  it('marks 503 with Retry-After transient, and names a proxy’s non-API answer', async () => {
    const busy = client(() =>
      json(503, { error: { code: 'UNAVAILABLE', message: 'retry shortly' } }, { 'retry-after': '7' }),
    );
    const proxy = client(() => new Response('<html><body>502 Bad Gateway</body>\n</html>', { status: 502 }));

    const busyErr = await busy.api.getBuild(ID, signal).catch((e: unknown) => e);
    const proxyErr = await proxy.api.getBuild(ID, signal).catch((e: unknown) => e);

    expect(busyErr).toMatchObject({ code: 'UNAVAILABLE', transient: true, retryAfterSeconds: 7 });
    expect(proxyErr).toBeInstanceOf(CompileApiError);
    expect(proxyErr).toMatchObject({ code: 'HTTP_502', transient: true });
    expect((proxyErr as Error).message).toBe(
      `GET http://api.test/LATEST/v1/builds/${ID} answered 502: <html><body>502 Bad Gateway</body> </html>`,
    );
  });

  it.each([
    ['not JSON', () => new Response('hello', { status: 200 }), /answered 200 without JSON: hello/],
    ['a wrong shape', () => json(200, { id: ID, state: 'cooking' }), /unexpected shape: state: .*; atom: /],
    [
      'a hostile package name',
      () => json(200, view({ package: '../../etc' })),
      /package: must be a Gentoo package name/,
    ],
    [
      'ready without artifact',
      () => json(200, view({ state: 'ready' })),
      /artifact: a ready build must have an artifact/,
    ],
    ['another success status', () => json(202, view()), /answered 202, not 200/],
    [
      'a redirect (never followed: the key would go along)',
      () => new Response(null, { status: 307, headers: { location: 'http://elsewhere.test/' } }),
      /redirect to http:\/\/elsewhere\.test\/: use the final URL as --url/,
    ],
  ])('refuses %s with InvalidServerResponseError', async (_name, answer, message) => {
    const { api } = client(answer);

    const err = await api.getBuild(ID, signal).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(InvalidServerResponseError);
    expect((err as Error).message).toMatch(message);
  });

  it('refuses an oversized answer without reading all of it', async () => {
    const { api } = client(() => new Response('x'.repeat(2 * 1024 * 1024), { status: 200 }));

    await expect(api.getBuild(ID, signal)).rejects.toThrow(/larger than 1048576 bytes/);
  });

  it('tells no answer (with the system’s reason) from a timeout and from the caller’s abort', async () => {
    const refused = client(() => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      });
    });
    const hanging = (seen: Seen) =>
      new Promise<Response>((_resolve, reject) => {
        seen.init.signal!.addEventListener('abort', () => reject(seen.init.signal!.reason), { once: true });
      });
    const slow = client(hanging, { timeoutMs: 50 });
    const aborted = client(hanging);
    const controller = new AbortController();

    const refusedErr = await refused.api.getBuild(ID, signal).catch((e: unknown) => e);
    const slowErr = await slow.api.getBuild(ID, signal).catch((e: unknown) => e);
    const pending = aborted.api.getBuild(ID, controller.signal).catch((e: unknown) => e);
    controller.abort(new Error('SIGINT'));
    const abortedErr = await pending;

    expect(refusedErr).toBeInstanceOf(ServerUnreachableError);
    expect((refusedErr as Error).message).toBe(
      `GET http://api.test/LATEST/v1/builds/${ID}: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:1)`,
    );
    expect(slowErr).toBeInstanceOf(ServerUnreachableError);
    expect((slowErr as Error).message).toMatch(/no answer within 0.05 s/);
    expect(abortedErr).toBeInstanceOf(AbortedError);
  });
});
