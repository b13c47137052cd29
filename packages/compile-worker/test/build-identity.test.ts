import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildIdentity } from '../src/build/build-identity.ts';
import { buildClaimKey, buildMessageSchema, toBuildMessage } from '../src/build/build-message.ts';
import { toBuildSpec } from '../src/build/build-spec.ts';
import type { BuilderProfile } from '../src/build/builder-profile.ts';

const profile: BuilderProfile = {
  imageDigest: `sha256:${'ab'.repeat(32)}`,
  arch: 'amd64',
  makeConfProfile: 'pacloud-2018',
};
const ranger = { category: 'app-misc', name: 'ranger', version: '1.8.1' };

describe('buildIdentity', () => {
  it('is the sha256 of the documented canonical JSON', () => {
    const spec = toBuildSpec(ranger, 'ssl -doc');
    const canonical = JSON.stringify([
      'spotjobs-compile-build/1',
      'app-misc/ranger-1.8.1',
      ['-doc', 'ssl'],
      profile.imageDigest,
      'amd64',
      'pacloud-2018',
    ]);
    expect(buildIdentity(spec, profile)).toBe(createHash('sha256').update(canonical).digest('hex'));
  });

  it('is stable across releases (a pinned value: changing it re-keys every build)', () => {
    expect(buildIdentity(toBuildSpec(ranger, 'ssl -doc'), profile)).toBe(
      'b03f5c403575d947246d9fb75d6a4ca2dc6142f67ba8e0c829e37b36cb548eee',
    );
  });

  it('is the same for every spelling of the same USE', () => {
    const ids = ['ssl -doc', '-doc ssl', ' ssl  ssl -doc', 'doc ssl -doc', ['-doc', 'ssl']].map((use) =>
      buildIdentity(toBuildSpec(ranger, use), profile),
    );
    expect(new Set(ids).size).toBe(1);
  });

  it('differs when any input differs', () => {
    const base = buildIdentity(toBuildSpec(ranger, 'ssl'), profile);
    const variants = [
      buildIdentity(toBuildSpec(ranger, '-ssl'), profile),
      buildIdentity(toBuildSpec(ranger, ''), profile),
      buildIdentity(toBuildSpec({ ...ranger, version: '1.8.1-r1' }, 'ssl'), profile),
      buildIdentity(toBuildSpec({ ...ranger, name: 'ranger2' }, 'ssl'), profile),
      buildIdentity(toBuildSpec({ ...ranger, category: 'app-text' }, 'ssl'), profile),
      buildIdentity(toBuildSpec(ranger, 'ssl'), { ...profile, imageDigest: `sha256:${'cd'.repeat(32)}` }),
      buildIdentity(toBuildSpec(ranger, 'ssl'), { ...profile, arch: 'arm64' }),
      buildIdentity(toBuildSpec(ranger, 'ssl'), { ...profile, makeConfProfile: 'other' }),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });

  it('cannot be forged by moving text between fields', () => {
    // With a separator-joined key, "a-b" + "1" and "a" + "b-1" could collide; JSON cannot.
    const one = buildIdentity(toBuildSpec({ category: 'x', name: 'a-b', version: '1' }, ''), profile);
    const two = buildIdentity(toBuildSpec({ category: 'x', name: 'a', version: '1' }, 'b'), profile);
    expect(one).not.toBe(two);
    expect(one).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('the build message', () => {
  const spec = toBuildSpec(ranger, 'ssl -doc');
  const buildId = buildIdentity(spec, profile);
  const message = toBuildMessage(spec, profile, { buildId, generation: 1, requestedAt: 1_700_000_000_000 });

  it('carries the compat fields with their original meaning', () => {
    expect(message).toMatchObject({
      packageExpression: 'app-misc/ranger-1.8.1',
      nameLong: 'app-misc/ranger',
      category: 'app-misc',
      nameShort: 'ranger',
      version: '1.8.1',
      useflag: '-doc ssl',
    });
    const empty = toBuildSpec(ranger, '');
    expect(
      toBuildMessage(empty, profile, {
        buildId: buildIdentity(empty, profile),
        generation: 1,
        requestedAt: 0,
      }).useflag,
    ).toBe(' ');
  });

  it('passes its own schema after a JSON round trip', () => {
    expect(buildMessageSchema.parse(JSON.parse(JSON.stringify(message)))).toEqual(message);
  });

  it.each([
    ['a forged build id', { buildId: 'f'.repeat(64) }, 'buildId'],
    ['a version with shell metacharacters', { version: '1.0;id' }, 'version'],
    ['USE that is not normalised', { use: ['ssl', '-doc'] }, 'use'],
    ['a bad USE flag', { use: ['$(id)'] }, 'use'],
    ['a packageExpression that disagrees', { packageExpression: 'app-misc/ranger-9' }, 'packageExpression'],
    ['a useflag that disagrees', { useflag: 'ssl' }, 'useflag'],
    ['a traversal in the category', { category: '..' }, 'category'],
    ['an unpinned-looking digest', { profile: { ...profile, imageDigest: 'latest' } }, 'profile'],
    ['another job type', { type: 'other' }, 'type'],
  ])('refuses %s', (_, change, path) => {
    const result = buildMessageSchema.safeParse({ ...message, ...change });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => String(i.path[0]))).toContain(path);
  });

  it('names one claim per build and generation', () => {
    expect(buildClaimKey({ buildId, generation: 2 })).toBe(`build/${buildId}/g2`);
  });
});
