// runRequest's waiting logic on a manual clock against a scripted API: polling at the interval,
// transient failures ridden out (not on the first submission), the timeout, the cache hit.
import { ManualClock } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import { CompileApiClient } from '../src/cli/api-client.ts';
import type { BuildView } from '../src/cli/api-schemas.ts';
import { CompileApiError, ServerUnreachableError, WaitTimeoutError } from '../src/cli/cli-errors.ts';
import { parseCli, type RequestCommand } from '../src/cli/cli-options.ts';
import { ProgressReporter } from '../src/cli/progress-reporter.ts';
import { type RequestOutcome, runRequest } from '../src/cli/request-command.ts';
import { isTransient, withTransientRetries } from '../src/cli/transient-retry.ts';
import { buildViewFixture, FIXTURE_TIME } from './support/build-view-fixture.ts';

const ID = 'ef'.repeat(32);
const SHA = 'a'.repeat(64);
const at = FIXTURE_TIME;

function view(state: BuildView['state'], extra: Partial<BuildView> = {}): BuildView {
  return buildViewFixture(ID, {
    state,
    use: [],
    attempts: state === 'queued' ? 0 : 1,
    workerId: state === 'building' ? 'w-1' : null,
    artifact: state === 'ready' ? { sha256: SHA, size: 5 } : null,
    ...extra,
  });
}

type Step = { status: number; body: unknown } | 'refused';

/** An API whose answers come from a script, one per call, the last one repeating. */
function scriptedApi(script: Record<'submit' | 'poll' | 'artifact', Step[]>) {
  const calls: string[] = [];
  const next = (kind: keyof typeof script): Step =>
    script[kind].length > 1 ? script[kind].shift()! : script[kind][0]!;
  const fakeFetch = (async (url: string | URL | Request, init?: RequestInit) => {
    const path = new URL(String(url)).pathname;
    const kind = init?.method === 'POST' ? 'submit' : path.endsWith('/artifact') ? 'artifact' : 'poll';
    calls.push(kind);
    const step = next(kind);
    if (step === 'refused')
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      });
    return new Response(JSON.stringify(step.body), { status: step.status });
  }) as typeof fetch;
  return { api: new CompileApiClient({ baseUrl: 'http://api.test', apiKey: 'k', fetch: fakeFetch }), calls };
}

const ok = (body: unknown, status = 200): Step => ({ status, body });
const unavailable: Step = {
  status: 503,
  body: { error: { code: 'UNAVAILABLE', message: 'the build service is unavailable; retry shortly' } },
};
const artifactLink = ok({ url: 'http://blobs.test/p.tbz2', expiresAt: at, sha256: SHA, size: 5 });

function command(extra: string[] = []): RequestCommand {
  const parsed = parseCli(
    ['request', 'app-misc/ranger-1.8.1', '--no-download', '--poll-interval', '2', ...extra],
    { SPOTJOBS_COMPILE_API_KEY: 'k-0123456789abcdef' },
    '/',
  );
  if (parsed.command !== 'request') throw new Error('not a request');
  return parsed;
}

/** Runs the request, moving the manual clock a second at a time until it settles. */
async function run(script: Parameters<typeof scriptedApi>[0], extra: string[] = []) {
  const clock = new ManualClock();
  const { api, calls } = scriptedApi(script);
  const out = { text: '', write: (s: string) => (out.text += s) };
  const progress = new ProgressReporter({ stream: out, quiet: false, monotonic: () => clock.monotonic() });
  let settled: { outcome?: RequestOutcome; error?: unknown } | undefined;
  runRequest(
    command(extra),
    { api, progress, clock, transientRetryMs: 30_000 },
    new AbortController().signal,
  ).then(
    (outcome) => {
      settled = { outcome };
    },
    (error: unknown) => {
      settled = { error };
    },
  );
  for (let i = 0; i < 10_000 && !settled; i++) await clock.advance(1000);
  return { ...settled, calls, output: out.text, elapsedMs: clock.monotonic() };
}

describe('runRequest', () => {
  it('polls at the interval through a server outage until the build is ready', async () => {
    const result = await run({
      submit: [ok(view('queued'), 201)],
      poll: [
        ok(view('queued')),
        unavailable,
        { ...unavailable },
        'refused',
        ok(view('building')),
        ok(view('ready')),
      ],
      artifact: [artifactLink],
    });

    expect(result.error).toBeUndefined();
    expect(result.outcome).toMatchObject({ kind: 'ready', created: true, cached: false, file: undefined });
    expect(result.calls).toEqual(['submit', 'poll', 'poll', 'poll', 'poll', 'poll', 'poll', 'artifact']);
    expect(result.output).toContain('the build service is unavailable; retry shortly; retrying in 2.0s');
    expect(result.output).toContain('ECONNREFUSED (connect ECONNREFUSED); retrying in 2.0s');
    expect(result.output).toMatch(/\] building \(attempt 1, worker w-1\)\n.*\] ready/s);
    expect(result.elapsedMs).toBe(12_000);
  });

  it('answers at once from the cache when the first answer is ready', async () => {
    const result = await run({
      submit: [ok(view('ready'))],
      poll: [ok(view('ready'))],
      artifact: [artifactLink],
    });

    expect(result.outcome).toMatchObject({ kind: 'ready', created: false, cached: true });
    expect(result.calls).toEqual(['submit', 'artifact']);
    expect(result.output).toContain('served from the cache');
  });

  it('does not retry an unreachable server on the first submission (a wrong --url), but a busy one', async () => {
    const refused = await run({ submit: ['refused'], poll: [ok(view('queued'))], artifact: [artifactLink] });
    const busy = await run({
      submit: [unavailable, ok(view('ready'))],
      poll: [ok(view('ready'))],
      artifact: [artifactLink],
    });

    expect(refused.error).toBeInstanceOf(ServerUnreachableError);
    expect(refused.calls).toEqual(['submit']);
    expect(busy.outcome).toMatchObject({ kind: 'ready' });
    expect(busy.calls).toEqual(['submit', 'submit', 'artifact']);
  });

  it('gives up on a server that stays unavailable past the retry budget', async () => {
    const result = await run({
      submit: [ok(view('queued'), 201)],
      poll: [unavailable],
      artifact: [artifactLink],
    });

    expect(result.error).toBeInstanceOf(CompileApiError);
    expect(result.error).toMatchObject({ status: 503, exitCode: 3 });
    expect(result.elapsedMs).toBeGreaterThanOrEqual(30_000);
    expect(result.elapsedMs).toBeLessThan(40_000);
  });

  it('stops waiting at --timeout with the build id and state', async () => {
    const result = await run(
      { submit: [ok(view('queued'), 201)], poll: [ok(view('building'))], artifact: [artifactLink] },
      ['--timeout', '60'],
    );

    expect(result.error).toBeInstanceOf(WaitTimeoutError);
    expect(result.error).toMatchObject({ buildId: ID, state: 'building', exitCode: 5 });
    expect(result.elapsedMs).toBe(60_000);
  });

  it('refuses an artifact link that disagrees with the build record', async () => {
    const result = await run({
      submit: [ok(view('ready'))],
      poll: [ok(view('ready'))],
      artifact: [ok({ url: 'http://blobs.test/p.tbz2', expiresAt: at, sha256: 'b'.repeat(64), size: 5 })],
    });

    expect(result.error).toMatchObject({ code: 'INVALID_RESPONSE', exitCode: 3 });
    expect((result.error as Error).message).toMatch(/names sha256 b{64} \(5 bytes\), the build record a{64}/);
  });
});

describe('withTransientRetries', () => {
  it('honours a longer Retry-After, and never retries what asking again cannot fix', async () => {
    const clock = new ManualClock();
    const delays: number[] = [];
    let calls = 0;
    const retried = withTransientRetries(
      async () => {
        if (calls++ === 0)
          throw new CompileApiError({
            status: 429,
            code: 'HTTP_429',
            message: 'slow down',
            retryAfterSeconds: 9,
          });
        return 'done';
      },
      {
        signal: new AbortController().signal,
        clock,
        budgetMs: 60_000,
        delayMs: 1000,
        onRetry: (_e, ms) => delays.push(ms),
      },
    );
    await clock.advance(9000);
    const refused = new CompileApiError({ status: 401, code: 'UNAUTHORIZED', message: 'no' });

    expect(await retried).toBe('done');
    expect(delays).toEqual([9000]);
    expect(isTransient(refused)).toBe(false);
    expect(isTransient(new CompileApiError({ status: 500, code: 'INTERNAL', message: 'bug' }))).toBe(false);
    await expect(
      withTransientRetries(
        async () => {
          throw refused;
        },
        { signal: new AbortController().signal, clock, budgetMs: 60_000, delayMs: 1000 },
      ),
    ).rejects.toBe(refused);
  });
});
