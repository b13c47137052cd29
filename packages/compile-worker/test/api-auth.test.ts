import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiKeyVerifier, presentedApiKey } from '../src/api/auth.ts';
import { platformPrincipalOf } from '../src/aws/api-gateway-event.ts';

const KEY = 'k1-0123456789abcdef';
const OTHER = 'k2-fedcba9876543210';

describe('presentedApiKey', () => {
  it.each([
    [{ 'x-api-key': KEY }, KEY],
    [{ authorization: `Bearer ${KEY}` }, KEY],
    [{ authorization: `bearer   ${KEY}  ` }, KEY],
    [{ 'x-api-key': KEY, authorization: `Bearer ${OTHER}` }, KEY],
    // IAM-signed requests carry SigV4 in Authorization: that is not an API key.
    [
      {
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=abc',
      },
      undefined,
    ],
    [{ authorization: 'Basic dXNlcjpwYXNz' }, undefined],
    [{ authorization: 'Bearer' }, undefined],
    [{}, undefined],
  ])('%j → %s', (headers, expected) => {
    expect(presentedApiKey(headers)).toBe(expected);
  });
});

describe('ApiKeyVerifier', () => {
  const verifier = new ApiKeyVerifier([KEY, OTHER]);

  it('authenticates each configured key with a fingerprint, never the key itself', () => {
    const one = verifier.verify(KEY);
    const two = verifier.verify(OTHER);
    expect(one).toMatchObject({ status: 'authenticated', principal: { kind: 'api-key' } });
    expect(two).toMatchObject({ status: 'authenticated', principal: { kind: 'api-key' } });
    if (one.status !== 'authenticated' || two.status !== 'authenticated') throw new Error('unreachable');
    expect(one.principal.id).toMatch(/^[0-9a-f]{12}$/);
    expect(one.principal.id).not.toBe(two.principal.id);
    expect(JSON.stringify(one)).not.toContain(KEY);
  });

  it.each(['', 'k1-0123456789abcde', `${KEY}x`, KEY.toUpperCase(), ` ${KEY}`])('rejects %j', (presented) => {
    expect(verifier.verify(presented)).toEqual({ status: 'rejected' });
  });

  it('accepts a key configured only by its SHA-256 digest, under the same fingerprint', () => {
    const sha256 = createHash('sha256').update(OTHER).digest('hex');
    const byDigest = new ApiKeyVerifier([KEY], [sha256]);
    expect(byDigest.verify(OTHER)).toEqual(verifier.verify(OTHER));
    expect(byDigest.verify(KEY)).toMatchObject({ status: 'authenticated' });
    expect(byDigest.verify(sha256)).toEqual({ status: 'rejected' });
  });

  it('answers anonymous when no key is presented, and rejects every key when none is configured', () => {
    expect(verifier.verify(undefined)).toEqual({ status: 'anonymous' });
    expect(new ApiKeyVerifier([]).verify(KEY)).toEqual({ status: 'rejected' });
  });
});

describe('platformPrincipalOf (API Gateway requestContext)', () => {
  const context = (requestContext: object) => ({ httpMethod: 'GET', path: '/package', requestContext });

  it('takes the IAM signer from identity.userArn', () => {
    const event = context({
      identity: {
        userArn: 'arn:aws:iam::123456789012:user/ci',
        caller: 'AIDA',
        accessKey: 'ASIA',
        sourceIp: '198.51.100.1',
      },
      authorizer: null,
    });
    expect(platformPrincipalOf(event)).toEqual({ kind: 'iam', id: 'arn:aws:iam::123456789012:user/ci' });
  });

  it('takes a Lambda authorizer principal and a Cognito subject', () => {
    expect(
      platformPrincipalOf(
        context({
          identity: { userArn: null },
          authorizer: { principalId: 'user-7', integrationLatency: 12 },
        }),
      ),
    ).toEqual({
      kind: 'authorizer',
      id: 'user-7',
    });
    expect(
      platformPrincipalOf(
        context({ identity: {}, authorizer: { claims: { sub: 'abc-123', email: 'a@b.c' } } }),
      ),
    ).toEqual({
      kind: 'authorizer',
      id: 'cognito:abc-123',
    });
  });

  it('sees no principal in the placeholders API Gateway sends without any authorization', () => {
    const none = context({
      identity: {
        userArn: null,
        caller: null,
        accessKey: null,
        user: null,
        sourceIp: '198.51.100.1',
        apiKey: null,
      },
      authorizer: { claims: null, scopes: null },
    });
    expect(platformPrincipalOf(none)).toBeUndefined();
    expect(platformPrincipalOf(context({ authorizer: { principalId: '' } }))).toBeUndefined();
    expect(platformPrincipalOf({ httpMethod: 'GET', path: '/' })).toBeUndefined();
  });
});
