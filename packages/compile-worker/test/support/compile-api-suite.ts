// One behaviour suite for the compile API over real HTTP, run against every backend family.
import { createHash } from 'node:crypto';
import { ManualClock } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import { buildIdentity } from '../../src/build/build-identity.ts';
import { buildClaimKey, buildMessageSchema } from '../../src/build/build-message.ts';
import { BuildRepository, stateKey } from '../../src/build/build-repository.ts';
import { toBuildSpec } from '../../src/build/build-spec.ts';
import { API_KEY, type ApiBackend, type BackendFactory } from './api-backends.ts';
import { drain, testProfile } from './local-builds.ts';
import { pacloudClientQuery } from './python-client.ts';

const WAIT = '{"status":"WAIT"}';
const withKey = { 'x-api-key': API_KEY };

interface Reply {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
}

async function request(backend: ApiBackend, path: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(`${backend.url}${path}`, init);
  return { status: response.status, text: await response.text(), headers: response.headers };
}

function compatPath(pkg: string, version: string, useflag: string): string {
  const query = new URLSearchParams({ package: pkg, version, useflag });
  return `/LATEST/package?${query}`;
}

/** Drives a build to ready as the daemon would, with `bytes` as its artifact. */
async function buildReady(backend: ApiBackend, id: string, bytes: Buffer): Promise<void> {
  const ref = { buildId: id, generation: (await backend.builds.get(id))!.generation };
  const claim = await backend.builds.claims.claim(buildClaimKey(ref), 'worker-1', { ttlMs: 60_000 });
  const owner = { workerId: 'worker-1', claimToken: claim!.token };
  await backend.builds.start(ref, owner);
  const key = `packages/${id.slice(0, 8)}-app-misc@ranger-1.8.1.tbz2`;
  await backend.blobs.put(key, bytes);
  await backend.blobs.put(`logs/${id}/g1-a1.log`, 'emerge ok\n');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await backend.builds.complete(ref, owner, {
    artifact: { key, sha256, size: bytes.byteLength },
    logKey: `logs/${id}/g1-a1.log`,
  });
  await backend.builds.claims.complete(claim!);
}

async function activeIds(backend: ApiBackend): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of new BuildRepository(backend.table).activeIds()) ids.push(id);
  return ids;
}

const ranger = (use: string) => toBuildSpec({ category: 'app-misc', name: 'ranger', version: '1.8.1' }, use);

export function compileApiSuite(family: string, backendFor: BackendFactory): void {
  describe(`compile API over HTTP (${family})`, () => {
    it('answers the compat protocol byte for byte: WAIT, SUCCESS with a working link, FAILED', async () => {
      const backend = await backendFor();
      const id = buildIdentity(ranger('ssl'), testProfile);

      const first = await request(backend, compatPath('app-misc/ranger', '1.8.1', 'ssl'), {
        headers: withKey,
      });
      const polled = await request(backend, compatPath('app-misc/ranger', '1.8.1', 'ssl'));

      expect(first).toMatchObject({ status: 200, text: WAIT });
      expect(first.headers.get('content-type')).toBe('application/json');
      expect(polled).toMatchObject({ status: 200, text: WAIT });
      const bytes = Buffer.from('binary package bytes \u0000\u0001\u00ff');
      await buildReady(backend, id, bytes);

      const ready = await request(backend, compatPath('app-misc/ranger', '1.8.1', 'ssl'));
      expect(ready.status).toBe(200);
      const match = /^\{"status":"SUCCESS","linkS3":"([^"\\]+)"\}$/.exec(ready.text);
      expect(match, ready.text).not.toBeNull();
      const download = await fetch(match![1]!);
      expect(download.status).toBe(200);
      expect(Buffer.from(await download.arrayBuffer())).toEqual(bytes);

      const other = ranger('-ssl');
      await request(backend, compatPath('app-misc/ranger', '1.8.1', '-ssl'), { headers: withKey });
      const otherRef = { buildId: buildIdentity(other, testProfile), generation: 1 };
      await backend.builds.start(otherRef, { workerId: 'w', claimToken: 1 });
      await backend.builds.fail(
        otherRef,
        { workerId: 'w', claimToken: 1 },
        { reason: 'emerge: "dep" failed\n\tline 2 \\ end' },
      );
      const failed = await request(backend, compatPath('app-misc/ranger', '1.8.1', '-ssl'));
      expect(failed).toMatchObject({
        status: 200,
        text: '{"status":"FAILED","errorMessage":"emerge: \\"dep\\" failed\\n\\tline 2 \\\\ end"}',
      });
    });

    it("serves the original client's double-encoded USE as the same build as a clean spelling", async () => {
      const backend = await backendFor();
      const query = pacloudClientQuery('media-libs/imlib2', '1.4.10', '~amd64 imlib ncurses jpeg gpm');
      expect(query).toBe(
        'package=media-libs%2Fimlib2&version=1.4.10&useflag=~amd64%2520imlib%2520ncurses%2520jpeg%2520gpm',
      );

      const first = await request(backend, `/LATEST/package?${query}`, { headers: withKey });
      const sameBuild = await request(
        backend,
        '/LATEST/package?package=media-libs/imlib2&version=1.4.10&useflag=jpeg+gpm+ncurses+imlib',
        {
          headers: withKey,
        },
      );

      expect(first).toMatchObject({ status: 200, text: WAIT });
      expect(sameBuild).toMatchObject({ status: 200, text: WAIT });
      const messages = await drain(backend.queue);
      expect(messages).toHaveLength(1);
      const job = buildMessageSchema.parse(JSON.parse(messages[0]!.body));
      expect(job).toMatchObject({
        packageExpression: 'media-libs/imlib2-1.4.10',
        nameLong: 'media-libs/imlib2',
        category: 'media-libs',
        nameShort: 'imlib2',
        version: '1.4.10',
        useflag: 'gpm imlib jpeg ncurses',
        use: ['gpm', 'imlib', 'jpeg', 'ncurses'],
      });
    });

    it('needs credentials to create a build: missing or wrong keys get 401 and enqueue nothing', async () => {
      const backend = await backendFor();
      const path = compatPath('app-misc/ranger', '1.8.1', 'ssl');
      const body = JSON.stringify({ atom: 'app-misc/ranger-1.8.1', use: ['ssl'] });

      const replies = [
        await request(backend, path),
        await request(backend, path, { headers: { 'x-api-key': 'wrong-key-0123456789abcdef' } }),
        await request(backend, path, { headers: { authorization: 'Bearer wrong-key-0123456789abcdef' } }),
        await request(backend, '/v1/builds', { method: 'POST', body }),
        await request(backend, '/v1/builds', {
          method: 'POST',
          body,
          headers: { 'x-api-key': `${API_KEY}x` },
        }),
      ];

      expect(replies.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
      expect(JSON.parse(replies[0]!.text)).toEqual({
        status: 'FAILED',
        errorMessage:
          'requesting a new build needs an API key (x-api-key or Authorization: Bearer) or IAM authorization',
      });
      expect(JSON.parse(replies[1]!.text)).toEqual({
        status: 'FAILED',
        errorMessage: 'the API key is not valid',
      });
      expect(JSON.parse(replies[3]!.text)).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
      expect(replies[3]!.headers.get('www-authenticate')).toContain('Bearer');
      expect(await drain(backend.queue)).toHaveLength(0);
      expect(await backend.table.get(stateKey(buildIdentity(ranger('ssl'), testProfile)))).toBeUndefined();
      expect(await activeIds(backend)).toEqual([]);

      // Bearer works as well as x-api-key; a wrong key is refused even for reading.
      const ok = await request(backend, path, { headers: { authorization: `Bearer ${API_KEY}` } });
      const wrongRead = await request(backend, path, {
        headers: { 'x-api-key': 'wrong-key-0123456789abcdef' },
      });
      expect(ok).toMatchObject({ status: 200, text: WAIT });
      expect(wrongRead.status).toBe(401);
      expect(await drain(backend.queue)).toHaveLength(1);
    });

    it('gives 100 concurrent identical first requests one queue message and one state item', async () => {
      const backend = await backendFor();
      const path = compatPath('app-misc/ranger', '1.8.1', 'ssl -doc');

      const replies = await Promise.all(
        Array.from({ length: 100 }, () => request(backend, path, { headers: withKey })),
      );

      expect(replies.every((r) => r.status === 200 && r.text === WAIT)).toBe(true);
      expect(await drain(backend.queue)).toHaveLength(1);
      const id = buildIdentity(ranger('ssl -doc'), testProfile);
      expect((await backend.table.query(`build#${id}`)).items).toHaveLength(1);
      expect(await activeIds(backend)).toEqual([id]);
    });

    it.each([
      ['package', compatPath('app-misc/ranger;reboot', '1.0', ''), 'contains ";"'],
      ['package', compatPath('../../etc/passwd', '1.0', ''), 'exactly one "/"'],
      ['package', compatPath('app-misc/..', '1.0', ''), 'contains "."'],
      ['package', compatPath('app-misc/rängèr', '1.0', ''), 'contains U+00E4'],
      ['package', compatPath(`app-misc/${'r'.repeat(200)}`, '1.0', ''), 'longer than 128'],
      ['version', compatPath('app-misc/ranger', '1.0$(id)', ''), 'contains "$"'],
      ['version', compatPath('app-misc/ranger', '1.0 && rm -rf /', ''), 'contains U+0020'],
      ['version', compatPath('app-misc/ranger', '../1.0', ''), 'contains "/"'],
      ['version', compatPath('app-misc/ranger', '１.0', ''), 'contains U+FF11'],
      ['version', compatPath('app-misc/ranger', '1'.repeat(100), ''), 'longer than 64'],
      ['useflag', compatPath('app-misc/ranger', '1.0', 'ssl;reboot'), 'contains ";"'],
      ['useflag', compatPath('app-misc/ranger', '1.0', '`id`'), 'contains "`"'],
      ['useflag', compatPath('app-misc/ranger', '1.0', 'a|b'), 'contains "|"'],
      ['useflag', compatPath('app-misc/ranger', '1.0', 'ssl\u202edoc'), 'contains U+202E'],
      ['useflag', compatPath('app-misc/ranger', '1.0', `${'u'.repeat(65)}`), 'longer than 64'],
      ['useflag', compatPath('app-misc/ranger', '1.0', '%zz'), 'malformed percent-encoding'],
      ['package', '/LATEST/package?version=1.0', 'is required'],
    ])('refuses a bad %s with 400 naming it, and enqueues nothing: %s', async (field, path, reason) => {
      const backend = await backendFor();

      const reply = await request(backend, path, { headers: withKey });

      expect(reply.status).toBe(400);
      const body = JSON.parse(reply.text) as Record<string, string>;
      expect(Object.keys(body)).toEqual(['status', 'errorMessage']);
      expect(body.status).toBe('FAILED');
      expect(body.errorMessage).toContain(`${field}: `);
      expect(body.errorMessage).toContain(reason);
      expect(await drain(backend.queue)).toHaveLength(0);
      expect(await activeIds(backend)).toEqual([]);
    });

    it.each([
      [{ atom: 'app-misc/ranger-1.0;id' }, 'atom'],
      [{ atom: '=app-misc/../../x-1.0' }, 'atom'],
      [{ package: 'app-misc/ranger', version: '1.0', use: ['ok', '$(reboot)'] }, 'use'],
      [{ package: 'app-misc/ranger', version: '1.0', use: 'a b\u0000' }, 'use'],
      [{ package: 'app misc/ranger', version: '1.0' }, 'package'],
      [{ package: 'app-misc/ranger' }, 'version'],
      [{ atom: 'app-misc/ranger-1.0', extra: true }, 'extra'],
      [{ atom: 'app-misc/ranger-1.0', use: 42 }, 'use'],
      ['not an object', 'body'],
    ])('refuses the bad submission %j with 400 field %s', async (payload, field) => {
      const backend = await backendFor();

      const reply = await request(backend, '/v1/builds', {
        method: 'POST',
        headers: withKey,
        body: JSON.stringify(payload),
      });

      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.text)).toMatchObject({ error: { code: 'INVALID_REQUEST', field } });
      expect(await drain(backend.queue)).toHaveLength(0);
    });

    it('submits, reports, and links artifact and log through the clean API', async () => {
      const backend = await backendFor();
      const body = JSON.stringify({ atom: '=app-misc/ranger-1.8.1', use: ['ssl', '-doc', 'ssl'] });
      const id = buildIdentity(ranger('-doc ssl'), testProfile);

      const created = await request(backend, '/v1/builds', { method: 'POST', headers: withKey, body });
      const again = await request(backend, '/v1/builds', {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify({ package: 'app-misc/ranger', version: '1.8.1', use: '-doc ssl' }),
      });

      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`/v1/builds/${id}`);
      expect(JSON.parse(created.text)).toMatchObject({
        id,
        state: 'queued',
        atom: 'app-misc/ranger-1.8.1',
        use: ['-doc', 'ssl'],
        profile: testProfile,
        links: { self: `/v1/builds/${id}`, artifact: null, log: null },
      });
      expect(again.status).toBe(200);
      expect(await drain(backend.queue)).toHaveLength(1);
      const notYet = await request(backend, `/v1/builds/${id}/artifact`);
      expect(notYet.status).toBe(409);
      expect(JSON.parse(notYet.text)).toMatchObject({ error: { code: 'NOT_READY' } });

      const bytes = Buffer.from('tbz2 payload');
      await buildReady(backend, id, bytes);
      const status = JSON.parse((await request(backend, `/v1/builds/${id}`)).text);
      const artifact = await request(backend, `/v1/builds/${id}/artifact`);
      const log = await request(backend, `/v1/builds/${id}/log`);

      expect(status).toMatchObject({
        state: 'ready',
        attempts: 1,
        workerId: 'worker-1',
        artifact: { size: bytes.byteLength },
      });
      expect(artifact.status).toBe(200);
      const link = JSON.parse(artifact.text) as {
        url: string;
        sha256: string;
        size: number;
        expiresAt: string;
      };
      expect(link.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(Buffer.from(await (await fetch(link.url)).arrayBuffer())).toEqual(bytes);
      const logLink = JSON.parse(log.text) as { url: string };
      expect(await (await fetch(logLink.url)).text()).toBe('emerge ok\n');
      expect((await request(backend, `/v1/builds/${'0'.repeat(64)}`)).status).toBe(404);
      expect(JSON.parse((await request(backend, '/v1/builds/..%2F..%2Fetc')).text)).toMatchObject({
        error: { code: 'INVALID_REQUEST', field: 'id' },
      });
    });

    it('retries a failed build after the configured time, as its next generation', async () => {
      const backend = await backendFor({ policy: { failedRetryAfterMs: 0 } });
      const body = JSON.stringify({ atom: 'app-misc/ranger-1.8.1' });
      const first = JSON.parse(
        (await request(backend, '/v1/builds', { method: 'POST', headers: withKey, body })).text,
      );
      const ref = { buildId: first.id as string, generation: 1 };
      await backend.builds.start(ref, { workerId: 'w', claimToken: 1 });
      await backend.builds.fail(ref, { workerId: 'w', claimToken: 1 }, { reason: 'out of memory' });
      await drain(backend.queue);

      const anonymous = await request(backend, compatPath('app-misc/ranger', '1.8.1', ''));
      const retried = await request(backend, '/v1/builds', { method: 'POST', headers: withKey, body });

      expect(anonymous.text).toBe('{"status":"FAILED","errorMessage":"out of memory"}');
      expect(retried.status).toBe(201);
      expect(JSON.parse(retried.text)).toMatchObject({ state: 'queued', generation: 2, error: null });
      const [message] = await drain(backend.queue);
      expect(buildMessageSchema.parse(JSON.parse(message!.body)).generation).toBe(2);
    });

    it('reclaims a build whose owner is gone, and the status goes back to WAIT for the next worker', async () => {
      const clock = new ManualClock();
      const backend = await backendFor({ clock, policy: { stuckAfterMs: 60_000 } });
      const path = compatPath('app-misc/ranger', '1.8.1', '');
      await request(backend, path, { headers: withKey });
      const id = buildIdentity(ranger(''), testProfile);
      const ref = { buildId: id, generation: 1 };
      const claim = await backend.builds.claims.claim(buildClaimKey(ref), 'worker-gone', { ttlMs: 30_000 });
      await backend.builds.start(ref, { workerId: 'worker-gone', claimToken: claim!.token });
      expect(await backend.builds.reclaimStuck()).toMatchObject({ scanned: 1, requeued: 0 });

      await clock.advance(61_000);
      const report = await backend.builds.reclaimStuck();

      expect(report).toMatchObject({ scanned: 1, requeued: 1, errors: 0 });
      expect(await drain(backend.queue)).toHaveLength(2); // the first send and the re-send
      expect((await request(backend, path)).text).toBe(WAIT);
      const next = await backend.builds.claims.claim(buildClaimKey(ref), 'worker-next', { ttlMs: 30_000 });
      expect(next!.token).toBeGreaterThan(claim!.token);
      expect(
        await backend.builds.start(ref, { workerId: 'worker-next', claimToken: next!.token }),
      ).toMatchObject({
        outcome: 'started',
        build: { attempts: 2 },
      });
    });

    it('closes reads when open reads are off', async () => {
      const backend = await backendFor({ openReads: false });
      await request(backend, compatPath('app-misc/ranger', '1.8.1', ''), { headers: withKey });
      const id = buildIdentity(ranger(''), testProfile);

      expect((await request(backend, compatPath('app-misc/ranger', '1.8.1', ''))).status).toBe(401);
      expect((await request(backend, `/v1/builds/${id}`)).status).toBe(401);
      expect((await request(backend, `/v1/builds/${id}`, { headers: withKey })).status).toBe(200);
    });

    it('answers routing and transport errors in the API shape', async () => {
      const backend = await backendFor();

      const wrongMethod = await request(backend, '/LATEST/package?package=a/b&version=1', {
        method: 'POST',
        headers: withKey,
      });
      const unknown = await request(backend, '/v2/builds');
      const tooBig = await request(backend, '/v1/builds', {
        method: 'POST',
        headers: withKey,
        body: 'x'.repeat(20_000),
      });
      const stagePrefixed = await request(backend, '/LATEST/v1/builds', {
        method: 'POST',
        headers: withKey,
        body: JSON.stringify({ atom: 'app-misc/ranger-1.8.1' }),
      });

      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toBe('GET');
      expect(JSON.parse(wrongMethod.text)).toEqual({
        status: 'FAILED',
        errorMessage: 'method not allowed; use GET',
      });
      expect(unknown.status).toBe(404);
      expect(JSON.parse(unknown.text)).toMatchObject({ error: { code: 'NOT_FOUND' } });
      expect(tooBig.status).toBe(413);
      expect(stagePrefixed.status).toBe(201);
    });
  });
}
