import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { BackendError } from '../src/errors.ts';
import {
  ImdsInterruptionSource,
  type ImdsInterruptionSourceOptions,
} from '../src/interruption/imds-interruption-source.ts';
import { type ImdsStandIn, type ImdsStandInOptions, startImdsStandIn } from '../src/testing/imds-stand-in.ts';
import { watchNotices } from './support/watch-notices.ts';

const actionPath = '/latest/meta-data/spot/instance-action';
const rebalancePath = '/latest/meta-data/events/recommendations/rebalance';
const tokenPath = '/latest/api/token';

async function standIn(options: ImdsStandInOptions = {}): Promise<ImdsStandIn> {
  const imds = await startImdsStandIn(options);
  onTestFinished(() => imds.close());
  return imds;
}

async function token(imds: ImdsStandIn, ttl = '60'): Promise<string> {
  const response = await fetch(`${imds.url}${tokenPath}`, {
    method: 'PUT',
    headers: { 'x-aws-ec2-metadata-token-ttl-seconds': ttl },
  });
  expect(response.status).toBe(200);
  return response.text();
}

function watch(imds: ImdsStandIn, options: ImdsInterruptionSourceOptions = {}) {
  return watchNotices(new ImdsInterruptionSource({ endpoint: imds.url, pollIntervalMs: 100, ...options }));
}

const waitFor = (check: () => void | Promise<void>) => vi.waitFor(check, { timeout: 10_000, interval: 20 });

describe('IMDS stand-in: the IMDSv2 protocol', () => {
  it('issues tokens only for a PUT with a valid TTL and no X-Forwarded-For', async () => {
    const imds = await standIn();
    const put = (headers: Record<string, string>) =>
      fetch(`${imds.url}${tokenPath}`, { method: 'PUT', headers }).then((r) => r.status);
    expect(await put({})).toBe(400);
    expect(await put({ 'x-aws-ec2-metadata-token-ttl-seconds': '0' })).toBe(400);
    expect(await put({ 'x-aws-ec2-metadata-token-ttl-seconds': '21601' })).toBe(400);
    expect(await put({ 'x-aws-ec2-metadata-token-ttl-seconds': 'soon' })).toBe(400);
    expect(await put({ 'x-aws-ec2-metadata-token-ttl-seconds': '60', 'x-forwarded-for': '10.0.0.1' })).toBe(
      403,
    );
    expect((await fetch(`${imds.url}${tokenPath}`)).status).toBe(405);

    const response = await fetch(`${imds.url}${tokenPath}`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-aws-ec2-metadata-token-ttl-seconds')).toBe('21600');
    expect((await response.text()).length).toBeGreaterThan(20);
    expect(imds.requestCount({ method: 'PUT', path: tokenPath, status: 400 })).toBe(4);
    expect(imds.requestCount({ path: tokenPath })).toBe(7);
  });

  it('answers GETs with a valid token only: 401 missing, unknown or expired; 404 for no event; JSON as EC2 sends it', async () => {
    const imds = await standIn();
    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${imds.url}${path}`, { headers });
    expect((await get(actionPath)).status).toBe(401);
    expect((await get(actionPath, { 'x-aws-ec2-metadata-token': 'forged' })).status).toBe(401);

    const valid = { 'x-aws-ec2-metadata-token': await token(imds) };
    const none = await get(actionPath, valid);
    expect(none.status).toBe(404);
    expect(await none.text()).toContain('<title>404 - Not Found</title>');

    imds.setInstanceAction({ action: 'terminate', time: Date.UTC(2026, 8, 18, 8, 22, 0, 500) });
    imds.setRebalance({ noticeTime: '2026-09-18T08:20:00Z' });
    const action = await get(actionPath, valid);
    expect(action.status).toBe(200);
    expect(action.headers.get('content-type')).toBe('text/plain');
    expect(await action.json()).toEqual({ action: 'terminate', time: '2026-09-18T08:22:00Z' });
    expect(await (await get('/latest/meta-data/spot/termination-time', valid)).text()).toBe(
      '2026-09-18T08:22:00Z',
    );
    expect(await (await get(rebalancePath, valid)).json()).toEqual({ noticeTime: '2026-09-18T08:20:00Z' });
    expect(await (await get('/latest/meta-data/instance-life-cycle', valid)).text()).toBe('spot');

    imds.setInstanceAction({ action: 'hibernate', time: '2026-09-18T08:21:00Z' });
    expect((await get('/latest/meta-data/spot/termination-time', valid)).status).toBe(404);
    imds.setInstanceAction(undefined);
    expect((await get(actionPath, valid)).status).toBe(404);

    imds.expireTokens();
    expect((await get(actionPath, valid)).status).toBe(401);
    expect(imds.requestCount({ method: 'GET', status: 401 })).toBe(3);
  });

  it('lets tokens expire after their TTL', async () => {
    const imds = await standIn();
    const valid = { 'x-aws-ec2-metadata-token': await token(imds, '1') };
    expect((await fetch(`${imds.url}${actionPath}`, { headers: valid })).status).toBe(404);
    await waitFor(async () =>
      expect((await fetch(`${imds.url}${actionPath}`, { headers: valid })).status).toBe(401),
    );
  });

  it('with tokens optional (IMDSv1 allowed) serves a GET without a token, but still refuses a bad one', async () => {
    const imds = await standIn({ tokenRequired: false });
    imds.setRebalance({ noticeTime: Date.UTC(2026, 0, 1) });
    expect(await (await fetch(`${imds.url}${rebalancePath}`)).json()).toEqual({
      noticeTime: '2026-01-01T00:00:00Z',
    });
    const forged = await fetch(`${imds.url}${rebalancePath}`, {
      headers: { 'x-aws-ec2-metadata-token': 'x' },
    });
    expect(forged.status).toBe(401);
  });

  it('can be slow or down, and recover', async () => {
    const imds = await standIn();
    imds.setLatencyMs(2_000);
    await expect(fetch(`${imds.url}${actionPath}`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    imds.setLatencyMs(0);
    imds.setDown(true);
    await expect(fetch(`${imds.url}${actionPath}`)).rejects.toThrow();
    expect(imds.requestCount()).toBe(1); // only the slow one was answered (too late): dropped ones are not counted
    imds.setDown(false);
    // The client may fail once more on a pooled socket it has not yet seen closed.
    await waitFor(async () => expect((await fetch(`${imds.url}${actionPath}`)).status).toBe(401));
  });
});

describe('ImdsInterruptionSource over HTTP against the stand-in', () => {
  it('after the tokens expire: 401, a new token, and the notice all the same', async () => {
    const imds = await standIn();
    const w = watch(imds);
    await waitFor(() =>
      expect(imds.requestCount({ path: actionPath, status: 404 })).toBeGreaterThanOrEqual(2),
    );
    expect(imds.requestCount({ path: tokenPath })).toBe(1);

    imds.expireTokens();
    imds.setInstanceAction({ action: 'terminate', time: Date.UTC(2026, 8, 18, 8, 22) });
    await waitFor(() =>
      expect(w.notices).toEqual([{ kind: 'terminate', at: Date.UTC(2026, 8, 18, 8, 22), source: 'imds' }]),
    );
    expect(imds.requestCount({ method: 'GET', status: 401 })).toBeGreaterThanOrEqual(1);
    expect(imds.requestCount({ path: tokenPath, status: 200 })).toBe(2);
    expect(w.errors).toEqual([]);
  });

  it('reports timeouts through onError and recovers when IMDS answers again', async () => {
    const imds = await standIn();
    const w = watch(imds, { requestTimeoutMs: 200 });
    await waitFor(() =>
      expect(imds.requestCount({ path: actionPath, status: 404 })).toBeGreaterThanOrEqual(1),
    );

    imds.setLatencyMs(1_000);
    await waitFor(() => expect(w.errors.length).toBeGreaterThanOrEqual(2));
    expect(w.errors[0]).toBeInstanceOf(BackendError);
    expect(w.errors[0]?.message).toMatch(/^IMDS GET \/latest\/meta-data\/.+ timed out after 200 ms$/);

    imds.setLatencyMs(0);
    imds.setInstanceAction({ action: 'stop', time: Date.UTC(2026, 8, 18, 9, 0) });
    await waitFor(() => expect(w.notices.map((n) => n.kind)).toEqual(['stop']));
  });

  it('reports an unreachable IMDS and recovers', async () => {
    const imds = await standIn();
    const w = watch(imds);
    await waitFor(() =>
      expect(imds.requestCount({ path: actionPath, status: 404 })).toBeGreaterThanOrEqual(1),
    );
    imds.setDown(true);
    await waitFor(() => expect(w.errors.length).toBeGreaterThanOrEqual(2));
    expect(w.errors.every((e) => e instanceof BackendError && e.retryable)).toBe(true);
    imds.setDown(false);
    imds.setRebalance({ noticeTime: Date.UTC(2026, 8, 18, 8, 10) });
    await waitFor(() =>
      expect(w.notices).toEqual([{ kind: 'rebalance', at: Date.UTC(2026, 8, 18, 8, 10), source: 'imds' }]),
    );
  });

  it('follows notices switched at runtime: one notice each, a changed time is a new one', async () => {
    const imds = await standIn();
    const w = watch(imds);
    imds.setRebalance({ noticeTime: Date.UTC(2026, 8, 18, 8, 0) });
    await waitFor(() => expect(w.notices.map((n) => n.kind)).toEqual(['rebalance']));
    imds.setInstanceAction({ action: 'terminate', time: Date.UTC(2026, 8, 18, 8, 2) });
    await waitFor(() => expect(w.notices.map((n) => n.kind)).toEqual(['rebalance', 'terminate']));
    const polled = imds.requestCount({ path: actionPath, status: 200 });
    await waitFor(() =>
      expect(imds.requestCount({ path: actionPath, status: 200 })).toBeGreaterThanOrEqual(polled + 3),
    );
    expect(w.notices).toHaveLength(2);

    imds.setInstanceAction({ action: 'terminate', time: Date.UTC(2026, 8, 18, 8, 3) });
    await waitFor(() => expect(w.notices).toHaveLength(3));
    expect(w.notices[2]).toEqual({ kind: 'terminate', at: Date.UTC(2026, 8, 18, 8, 3), source: 'imds' });

    imds.setInstanceAction('{"action":"terminate"');
    await waitFor(() =>
      expect(w.errors.map((e) => e.message)).toEqual([`malformed ${actionPath}: body is not JSON`]),
    );
    expect(w.notices).toHaveLength(3);
  });

  it('stops on abort: watch resolves and polling ends', async () => {
    const imds = await standIn();
    const w = watch(imds);
    await waitFor(() => expect(imds.requestCount({ path: actionPath })).toBeGreaterThanOrEqual(2));
    w.controller.abort();
    await w.watching;
    const after = imds.requestCount();
    await new Promise((resolve) => setTimeout(resolve, 500)); // five poll intervals
    expect(imds.requestCount()).toBe(after);
    expect(w.errors).toEqual([]);
  });
});
