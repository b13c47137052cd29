import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendError, ValidationError } from '../src/errors.ts';
import {
  ImdsInterruptionSource,
  type ImdsInterruptionSourceOptions,
} from '../src/interruption/imds-interruption-source.ts';
import { parseInstanceAction, parseRebalance } from '../src/interruption/imds-payloads.ts';
import type { InterruptionNotice } from '../src/ports/interruption-source.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';

const actionPath = '/latest/meta-data/spot/instance-action';
const rebalancePath = '/latest/meta-data/events/recommendations/rebalance';

/** An in-memory IMDS behind a `fetch`: tokens, 401s, 404s, and a switch to fail the network. */
function fakeImds() {
  const state = {
    action: undefined as string | undefined,
    rebalance: undefined as string | undefined,
    networkDown: false,
    acceptTokens: true,
  };
  const tokens = new Set<string>();
  const calls: { method: string; path: string }[] = [];
  let issued = 0;
  const fetchFn: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    calls.push({ method, path: url.pathname });
    if (state.networkDown) throw new TypeError('fetch failed');
    const headers = (init?.headers ?? {}) as Record<string, string>;
    if (method === 'PUT') {
      if (!/^\d+$/.test(headers['x-aws-ec2-metadata-token-ttl-seconds'] ?? ''))
        return new Response('', { status: 400 });
      const token = `token-${++issued}`;
      tokens.add(token);
      return new Response(token, { status: 200 });
    }
    const token = headers['x-aws-ec2-metadata-token'];
    if (token === undefined || !tokens.has(token) || !state.acceptTokens)
      return new Response('unauthorized', { status: 401 });
    const body =
      url.pathname === actionPath
        ? state.action
        : url.pathname === rebalancePath
          ? state.rebalance
          : undefined;
    return body === undefined
      ? new Response('not found', { status: 404 })
      : new Response(body, { status: 200 });
  };
  return {
    fetch: fetchFn,
    state,
    /** Every token issued so far stops working, as at expiry. */
    revokeTokens: () => tokens.clear(),
    count: (method: string, path?: string) =>
      calls.filter((c) => c.method === method && (path === undefined || c.path === path)).length,
  };
}

const watches: AbortController[] = [];
afterEach(() => {
  for (const w of watches.splice(0)) w.abort();
});

function start(options: Omit<ImdsInterruptionSourceOptions, 'clock' | 'fetch'> = {}) {
  const clock = new ManualClock(Date.UTC(2026, 8, 18, 8, 0, 0));
  const imds = fakeImds();
  const source = new ImdsInterruptionSource({ pollIntervalMs: 1_000, ...options, clock, fetch: imds.fetch });
  const notices: InterruptionNotice[] = [];
  const errors: Error[] = [];
  const controller = new AbortController();
  watches.push(controller);
  const watching = source.watch({
    notify: (n) => {
      notices.push(n);
    },
    onError: (e) => errors.push(e),
    signal: controller.signal,
  });
  /** Waits until the poll in progress is done and the source sleeps until the next one. */
  const idle = () => vi.waitFor(() => expect(clock.pendingTimers).toBe(1), { interval: 1 });
  /** Runs `n` more polls. */
  const polls = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await clock.advance(1_000);
      await idle();
    }
  };
  return { clock, imds, source, notices, errors, controller, watching, idle, polls };
}

describe('ImdsInterruptionSource (fake IMDS, manual clock)', () => {
  it('reuses one token for every poll and replaces it refreshBeforeSeconds before it expires', async () => {
    const t = start({ tokenTtlSeconds: 100, refreshBeforeSeconds: 10 });
    await t.idle();
    expect(t.imds.count('PUT')).toBe(1);
    expect(t.imds.count('GET')).toBe(2);

    await t.polls(89); // polls at 1 … 89 s: still inside ttl − refreshBefore
    expect(t.imds.count('PUT')).toBe(1);
    expect(t.imds.count('GET', actionPath)).toBe(90);

    await t.polls(1); // 90 s: the refresh window begins
    expect(t.imds.count('PUT')).toBe(2);
    await t.polls(5);
    expect(t.imds.count('PUT')).toBe(2);
    expect(t.errors).toEqual([]);
  });

  it('takes a new token after the wall clock jumped past its life (the monotonic clock stood still)', async () => {
    const t = start({ tokenTtlSeconds: 3_600 });
    await t.idle();
    t.clock.jumpWallClock(3_600_000);
    await t.polls(1);
    expect(t.imds.count('PUT')).toBe(2);
    expect(t.errors).toEqual([]);
  });

  it('on a 401 drops the token and retries once with a fresh one (one PUT for both paths)', async () => {
    const t = start();
    t.imds.state.action = '{"action":"terminate","time":"2026-09-18T08:02:00Z"}';
    await t.idle();
    expect(t.notices).toHaveLength(1);
    t.imds.revokeTokens();
    t.imds.state.action = '{"action":"terminate","time":"2026-09-18T08:03:00Z"}';
    await t.polls(1);
    expect(t.imds.count('PUT')).toBe(2);
    expect(t.errors).toEqual([]);
    expect(t.notices.map((n) => n.at)).toEqual([Date.UTC(2026, 8, 18, 8, 2), Date.UTC(2026, 8, 18, 8, 3)]);
  });

  it('reports a 401 that persists with a fresh token, without retrying further', async () => {
    const t = start();
    await t.idle();
    t.imds.state.acceptTokens = false;
    const [puts, gets] = [t.imds.count('PUT'), t.imds.count('GET')];
    await t.polls(1);
    expect(t.imds.count('PUT') - puts).toBe(1); // one fresh token, shared by both paths
    expect(t.imds.count('GET') - gets).toBe(4); // each path: first try, one retry
    expect(t.errors.map((e) => [e.constructor, e.message])).toEqual([
      [BackendError, `IMDS answered 401 to GET ${actionPath}`],
      [BackendError, `IMDS answered 401 to GET ${rebalancePath}`],
    ]);
  });

  it('turns spot/instance-action into one notice however many polls see it; a changed time is a new notice', async () => {
    const t = start();
    await t.idle();
    t.imds.state.action = '{"action":"terminate","time":"2026-09-18T08:02:00Z"}';
    await t.polls(30);
    expect(t.notices).toEqual([{ kind: 'terminate', at: Date.UTC(2026, 8, 18, 8, 2), source: 'imds' }]);

    // Same notice, other bytes: still the same notice.
    t.imds.state.action = '{ "action": "terminate", "time": "2026-09-18T08:02:00Z" }';
    await t.polls(2);
    expect(t.notices).toHaveLength(1);

    t.imds.state.action = '{"action":"terminate","time":"2026-09-18T08:02:30Z"}';
    await t.polls(3);
    expect(t.notices.map((n) => [n.kind, n.at])).toEqual([
      ['terminate', Date.UTC(2026, 8, 18, 8, 2)],
      ['terminate', Date.UTC(2026, 8, 18, 8, 2, 30)],
    ]);

    // Gone (404) and back with the same payload: the same notice, not a new one.
    t.imds.state.action = undefined;
    await t.polls(2);
    t.imds.state.action = '{"action":"terminate","time":"2026-09-18T08:02:30Z"}';
    await t.polls(2);
    expect(t.notices).toHaveLength(2);
    expect(t.errors).toEqual([]);
  });

  it('reads stop and hibernate actions and the rebalance recommendation', async () => {
    const t = start();
    t.imds.state.rebalance = '{"noticeTime":"2026-09-18T07:59:00Z"}';
    await t.idle();
    t.imds.state.action = '{"action":"stop","time":"2026-09-18T08:02:00Z"}';
    await t.polls(1);
    t.imds.state.action = '{"action":"hibernate","time":"2026-09-18T08:01:00Z"}';
    await t.polls(1);
    expect(t.notices).toEqual([
      { kind: 'rebalance', at: Date.UTC(2026, 8, 18, 7, 59), source: 'imds' },
      { kind: 'stop', at: Date.UTC(2026, 8, 18, 8, 2), source: 'imds' },
      { kind: 'hibernate', at: Date.UTC(2026, 8, 18, 8, 1), source: 'imds' },
    ]);
  });

  it('treats 404 as "no event": no notice and no error', async () => {
    const t = start();
    await t.polls(5);
    expect(t.notices).toEqual([]);
    expect(t.errors).toEqual([]);
    expect(t.imds.count('GET')).toBe(12);
  });

  it('reports a malformed body or an unknown action once, never as a notice, and recovers', async () => {
    const t = start();
    t.imds.state.action = '{"action":"terminate","time":';
    await t.idle();
    await t.polls(3);
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0]).toBeInstanceOf(ValidationError);

    t.imds.state.action = '{"action":"reboot","time":"2026-09-18T08:02:00Z"}';
    await t.polls(2);
    t.imds.state.rebalance = '{"noticeTime":"soon"}';
    await t.polls(2);
    expect(t.errors.map((e) => e.message)).toEqual([
      'malformed /latest/meta-data/spot/instance-action: body is not JSON',
      'malformed /latest/meta-data/spot/instance-action: action must be terminate, stop or hibernate (got "reboot")',
      'malformed /latest/meta-data/events/recommendations/rebalance: noticeTime must be a UTC date-time (got "soon")',
    ]);
    expect(t.notices).toEqual([]);

    t.imds.state.action = '{"action":"terminate","time":"2026-09-18T08:02:00Z"}';
    await t.polls(1);
    expect(t.notices.map((n) => n.kind)).toEqual(['terminate']);
  });

  it('reports an unreachable IMDS on every poll and picks up again when it is back', async () => {
    const t = start({ tokenTtlSeconds: 60, refreshBeforeSeconds: 10 });
    await t.idle();
    t.imds.state.networkDown = true;
    await t.polls(3); // the token is still good: both GETs fail on each poll
    expect(t.errors).toHaveLength(6);
    await t.polls(50); // past the token's refresh point: the PUT fails, reported once per poll
    expect(t.errors).toHaveLength(6 + 2 * 46 + 4);
    expect(t.errors.every((e) => e instanceof BackendError && e.retryable)).toBe(true);
    expect(t.errors.at(-1)?.message).toBe('IMDS PUT /latest/api/token failed');

    t.imds.state.networkDown = false;
    t.imds.state.action = '{"action":"terminate","time":"2026-09-18T08:02:00Z"}';
    const errors = t.errors.length;
    await t.polls(1);
    expect(t.notices.map((n) => n.kind)).toEqual(['terminate']);
    expect(t.errors).toHaveLength(errors);
  });

  it('hands a rejection of notify to onError', async () => {
    const clock = new ManualClock(Date.UTC(2026, 8, 18, 8, 0, 0));
    const imds = fakeImds();
    imds.state.action = '{"action":"terminate","time":"2026-09-18T08:02:00Z"}';
    const source = new ImdsInterruptionSource({ clock, fetch: imds.fetch });
    const errors: Error[] = [];
    const controller = new AbortController();
    watches.push(controller);
    void source.watch({
      notify: async () => {
        throw new Error('runner refused');
      },
      onError: (e) => errors.push(e),
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(errors.map((e) => e.message)).toEqual(['runner refused']));
  });

  it('stops on abort: watch resolves, no timer is left, no further request', async () => {
    const t = start();
    await t.polls(2);
    const requests = t.imds.count('GET') + t.imds.count('PUT');
    t.controller.abort();
    await t.watching;
    expect(t.clock.pendingTimers).toBe(0);
    await t.clock.advance(10_000);
    expect(t.imds.count('GET') + t.imds.count('PUT')).toBe(requests);
  });

  it('validates its options', () => {
    const bad: ImdsInterruptionSourceOptions[] = [
      { pollIntervalMs: 99 },
      { pollIntervalMs: 60_001 },
      { pollIntervalMs: 1_500.5 },
      { pollIntervalMs: Number.NaN },
      { tokenTtlSeconds: 0 },
      { tokenTtlSeconds: 21_601 },
      { tokenTtlSeconds: 60, refreshBeforeSeconds: 60 },
      { refreshBeforeSeconds: -1 },
      { requestTimeoutMs: 0 },
      { endpoint: 'not a url' },
      { endpoint: 'file:///etc/passwd' },
    ];
    for (const options of bad)
      expect(() => new ImdsInterruptionSource(options), JSON.stringify(options)).toThrow(ValidationError);
    expect(() => new ImdsInterruptionSource()).not.toThrow();
    expect(() => new ImdsInterruptionSource({ pollIntervalMs: 2_000, tokenTtlSeconds: 1 })).not.toThrow();
    expect(() => new ImdsInterruptionSource({ endpoint: 'http://[fd00:ec2::254]/' })).not.toThrow();
  });
});

describe('IMDS payloads', () => {
  it('parse the bodies EC2 sends', () => {
    expect(parseInstanceAction('{"action": "terminate", "time": "2017-09-18T08:22:00Z"}', 'imds')).toEqual({
      kind: 'terminate',
      at: Date.UTC(2017, 8, 18, 8, 22),
      source: 'imds',
    });
    expect(parseRebalance('{"noticeTime": "2020-10-27T08:22:00Z"}', 'imds')).toEqual({
      kind: 'rebalance',
      at: Date.UTC(2020, 9, 27, 8, 22),
      source: 'imds',
    });
  });

  it('refuse what is not a notice', () => {
    for (const body of [
      '',
      'null',
      '[]',
      '"terminate"',
      '{"instance-action":"terminate","time":"2017-09-18T08:22:00Z"}',
      '{"action":"terminate"}',
      '{"action":"terminate","time":"2017-09-18"}',
      '{"action":"terminate","time":"2017-09-18T08:22:00"}',
      '{"action":"terminate","time":1505722920000}',
      '{"action":"TERMINATE","time":"2017-09-18T08:22:00Z"}',
    ])
      expect(() => parseInstanceAction(body, 'imds'), body).toThrow(ValidationError);
    expect(() => parseRebalance('{"noticeTime":null}', 'imds')).toThrow(ValidationError);
  });
});
