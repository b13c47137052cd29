import { createHash, timingSafeEqual } from 'node:crypto';

/** Who a request comes from, once established: the form stored as a build's `requestedBy`. */
export interface Principal {
  readonly kind: 'api-key' | 'iam' | 'authorizer';
  /** `api-key`: the key's fingerprint (sha256, 12 hex); `iam`: the caller's ARN; `authorizer`: its principal id. */
  readonly id: string;
}

/** What a request's credentials turned out to be. */
export type Authentication =
  | { readonly status: 'anonymous' }
  | { readonly status: 'authenticated'; readonly principal: Principal }
  /** A key was presented and matches none: always refused, even where anonymous access is allowed. */
  | { readonly status: 'rejected' };

/** The `principal` as stored on a build (`api-key:1a2b…`). */
export function describePrincipal(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}

/**
 * The API key a request presents: `x-api-key`, else `Authorization: Bearer <key>`. Other
 * `Authorization` schemes (API Gateway forwards the SigV4 `AWS4-HMAC-SHA256 …` header of an
 * IAM-signed request) are not API keys and are ignored here.
 *
 * @example
 * ```ts
 * presentedApiKey({ authorization: 'Bearer s3cr3t-key-0123456789' }); // 's3cr3t-key-0123456789'
 * ```
 */
export function presentedApiKey(headers: Readonly<Record<string, string | undefined>>): string | undefined {
  const direct = headers['x-api-key'];
  if (direct !== undefined && direct !== '') return direct.trim();
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

/**
 * Checks presented API keys against the configured ones in constant time: both sides are
 * hashed (so lengths never differ) and every configured key is compared, with no early exit,
 * so timing tells nothing about which key or how much of it matched. Keys may also be given
 * as their SHA-256 digests (hex), so a deployment need not hold the keys themselves.
 *
 * @example
 * ```ts
 * const keys = new ApiKeyVerifier(config.api.apiKeys);
 * keys.verify(presentedApiKey(headers)); // { status: 'authenticated', principal: { kind: 'api-key', id: '…' } }
 * ```
 */
export class ApiKeyVerifier {
  readonly #digests: readonly Buffer[];

  constructor(keys: readonly string[], sha256Hex: readonly string[] = []) {
    this.#digests = [...keys.map(digest), ...sha256Hex.map((hex) => Buffer.from(hex, 'hex'))];
  }

  verify(presented: string | undefined): Authentication {
    if (presented === undefined) return { status: 'anonymous' };
    const candidate = digest(presented);
    let matched: Buffer | undefined;
    for (const known of this.#digests) {
      if (timingSafeEqual(known, candidate)) matched = known;
    }
    if (!matched) return { status: 'rejected' };
    return {
      status: 'authenticated',
      principal: { kind: 'api-key', id: matched.toString('hex').slice(0, 12) },
    };
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}
