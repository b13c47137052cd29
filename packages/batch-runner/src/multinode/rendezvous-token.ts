import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The bearer token every node of one job attempt computes alike: HMAC-SHA256 over the job id
 * and attempt, keyed by the optional shared secret. It keeps a stray host (a node of another
 * job or of an earlier attempt that still runs) from joining. Without a secret, anyone who
 * knows the job id can compute it: set SPOTJOBS_RENDEZVOUS_SECRET where that matters.
 *
 * @example
 * ```ts
 * const token = rendezvousToken('5a3b…', 1, secret);
 * fetch(url, { headers: { authorization: `Bearer ${token}` } });
 * ```
 */
export function rendezvousToken(runId: string, attempt: number, secret: string | undefined): string {
  return createHmac('sha256', secret ?? 'spotjobs-rendezvous')
    .update(`spotjobs-rendezvous\n${runId}\n${attempt}`)
    .digest('hex');
}

/** Whether an `Authorization` header carries `token` (constant-time comparison). */
export function carriesToken(header: string | undefined, token: string): boolean {
  const presented = Buffer.from((header ?? '').replace(/^Bearer\s+/i, ''));
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
