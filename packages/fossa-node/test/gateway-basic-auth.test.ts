import * as crypto from 'node:crypto';
import { ValidationError } from '@spotjobs/core';
import { ManualClock } from '@spotjobs/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuthFailureLimiter } from '../src/gateway/auth-failure-limiter.ts';
import { BasicAuthVerifier, parseBasicAuthorization } from '../src/gateway/basic-auth.ts';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

const credentials = { username: 'fossa', password: 'correct horse battery' };

afterEach(() => {
  vi.mocked(crypto.timingSafeEqual).mockClear();
});

describe('parseBasicAuthorization', () => {
  it('splits at the first colon, so a password may contain colons', () => {
    expect(parseBasicAuthorization(basic('fossa', 'a:b:c'))).toEqual({
      username: 'fossa',
      password: 'a:b:c',
    });
  });

  it('reads UTF-8 and a lower-case scheme', () => {
    expect(parseBasicAuthorization(`basic ${Buffer.from('ünï:pässwörd').toString('base64')}`)).toEqual({
      username: 'ünï',
      password: 'pässwörd',
    });
  });

  it.each([
    undefined,
    '',
    'Bearer abc',
    'Basic',
    'Basic !!!',
    `Basic ${Buffer.from('no-colon').toString('base64')}`,
    `Basic ${'A'.repeat(5000)}`,
  ])('gives nothing for %s', (header) => {
    expect(parseBasicAuthorization(header)).toBeUndefined();
  });
});

describe('BasicAuthVerifier', () => {
  const verifier = new BasicAuthVerifier(credentials);

  it('accepts the right username and password', () => {
    expect(verifier.check(basic('fossa', 'correct horse battery'))).toBe('accepted');
  });

  it('tells a missing header from wrong or malformed credentials', () => {
    expect(verifier.check(undefined)).toBe('missing');
    expect(verifier.check(basic('fossa', 'correct horse batter'))).toBe('rejected');
    expect(verifier.check(basic('fossa', 'correct horse battery '))).toBe('rejected');
    expect(verifier.check(basic('Fossa', 'correct horse battery'))).toBe('rejected');
    expect(verifier.check(basic('', ''))).toBe('rejected');
    expect(verifier.check('Bearer correct horse battery')).toBe('rejected');
  });

  it('compares fixed-length digests, and always both the username and the password', () => {
    const compare = vi.mocked(crypto.timingSafeEqual);
    for (const header of [
      basic('someone-else-with-a-much-longer-name', 'x'),
      basic('fossa', 'wrong'),
      basic('fossa', 'correct horse battery'),
    ]) {
      compare.mockClear();
      verifier.check(header);
      expect(compare).toHaveBeenCalledTimes(2);
      for (const [a, b] of compare.mock.calls) {
        expect((a as Buffer).length).toBe(32);
        expect((b as Buffer).length).toBe(32);
      }
    }
  });

  it('refuses weak or malformed configured credentials', () => {
    expect(() => new BasicAuthVerifier({ username: 'fossa', password: 'short' })).toThrow(ValidationError);
    expect(() => new BasicAuthVerifier({ username: 'a:b', password: 'long enough password' })).toThrow(
      /colon/,
    );
    expect(() => new BasicAuthVerifier({ username: '', password: 'long enough password' })).toThrow(
      ValidationError,
    );
  });
});

describe('AuthFailureLimiter', () => {
  it('refuses a client after maxFailures within the window, until the window ends', async () => {
    const clock = new ManualClock();
    const limiter = new AuthFailureLimiter({ maxFailures: 3, windowMs: 60_000, clock });
    for (let i = 0; i < 2; i++) limiter.recordFailure('10.0.0.9');
    expect(limiter.retryAfterMs('10.0.0.9')).toBe(0);
    limiter.recordFailure('10.0.0.9');
    expect(limiter.retryAfterMs('10.0.0.9')).toBe(60_000);
    expect(limiter.retryAfterMs('10.0.0.10')).toBe(0);
    await clock.advance(59_000);
    expect(limiter.retryAfterMs('10.0.0.9')).toBe(1_000);
    await clock.advance(1_000);
    expect(limiter.retryAfterMs('10.0.0.9')).toBe(0);
  });

  it('keeps at most maxClients windows, dropping the oldest', () => {
    const limiter = new AuthFailureLimiter({ maxFailures: 1, maxClients: 2, clock: new ManualClock() });
    limiter.recordFailure('a');
    limiter.recordFailure('b');
    limiter.recordFailure('c');
    expect(limiter.retryAfterMs('a')).toBe(0);
    expect(limiter.retryAfterMs('b')).toBeGreaterThan(0);
    expect(limiter.retryAfterMs('c')).toBeGreaterThan(0);
  });

  it('refuses nonsense options', () => {
    expect(() => new AuthFailureLimiter({ maxFailures: 0, windowMs: -1, maxClients: 1.5 })).toThrow(
      /maxFailures.*windowMs.*maxClients/,
    );
  });
});
