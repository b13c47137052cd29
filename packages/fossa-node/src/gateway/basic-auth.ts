import { createHash, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '@spotjobs/core';

/** The realm the browser shows in its login prompt (Fossa's gateway said the same). */
export const BASIC_AUTH_REALM = 'Login Required';

/** The `WWW-Authenticate` value a 401 carries. */
export const WWW_AUTHENTICATE = `Basic realm="${BASIC_AUTH_REALM}", charset="UTF-8"`;

/** What a request's `Authorization` header turned out to be. */
export type BasicAuthOutcome = 'missing' | 'rejected' | 'accepted';

/**
 * Checks HTTP Basic credentials against one username and password in constant time: both
 * sides are reduced to SHA-256 digests (fixed length, so `timingSafeEqual` never sees lengths
 * differ) and both the username and the password are always compared, so timing tells neither
 * which one was wrong nor how much of it matched.
 *
 * @example
 * ```ts
 * const auth = new BasicAuthVerifier({ username: 'fossa', password: process.env.GATEWAY_PASSWORD });
 * auth.check(req.headers.authorization); // 'accepted' | 'rejected' | 'missing'
 * ```
 */
export class BasicAuthVerifier {
  readonly #username: Buffer;
  readonly #password: Buffer;

  constructor(credentials: { readonly username: string; readonly password: string }) {
    const issues: string[] = [];
    if (credentials.username === '' || credentials.username.includes(':'))
      issues.push('username must be non-empty and contain no colon');
    if (credentials.password.length < 8) issues.push('password must be at least 8 characters');
    if (issues.length > 0) throw new ValidationError('invalid gateway credentials', issues);
    this.#username = digest(credentials.username);
    this.#password = digest(credentials.password);
  }

  check(authorization: string | undefined): BasicAuthOutcome {
    const presented = parseBasicAuthorization(authorization);
    if (presented === undefined) return authorization === undefined ? 'missing' : 'rejected';
    const usernameMatches = timingSafeEqual(this.#username, digest(presented.username));
    const passwordMatches = timingSafeEqual(this.#password, digest(presented.password));
    // Both comparisons ran; `&&` here only combines two booleans already computed.
    return usernameMatches && passwordMatches ? 'accepted' : 'rejected';
  }
}

/**
 * The username and password of an `Authorization: Basic <base64>` header, or undefined when
 * the header is absent, another scheme, or malformed. The password may contain colons.
 *
 * @example
 * ```ts
 * parseBasicAuthorization('Basic Zm9zc2E6czNjcjN0'); // { username: 'fossa', password: 's3cr3t' }
 * ```
 */
export function parseBasicAuthorization(
  authorization: string | undefined,
): { username: string; password: string } | undefined {
  const match = /^Basic[ \t]+([A-Za-z0-9+/]{1,4096}={0,2})[ \t]*$/i.exec(authorization ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
