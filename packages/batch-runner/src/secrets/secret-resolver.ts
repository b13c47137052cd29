import { isAbortError } from '@spotjobs/core';
import { SecretResolutionError } from '../run/runner-errors.ts';
import { describeSecretReference, type SecretReference } from './secret-reference.ts';

/**
 * `SecretResolver`: turns a reference into the secret's value. `AwsSecretResolver` reads
 * Secrets Manager and SSM Parameter Store; tests pass a fake (no emulator of either exists).
 *
 * Semantics: resolves to the value as a string, or rejects (a missing secret, a denied read,
 * a JSON key that is not there); it never logs the value.
 *
 * @example
 * ```ts
 * const resolver: SecretResolver = { resolve: async (ref) => fakeValues[describeSecretReference(ref)]! };
 * ```
 */
export interface SecretResolver {
  resolve(reference: SecretReference, signal?: AbortSignal): Promise<string>;
}

/**
 * Resolves every `variable → reference` pair (each distinct reference fetched once, all at
 * once) into `variable → value`. A failure names the variable and reference, never a value.
 *
 * @example
 * ```ts
 * const values = await resolveSecrets(new Map([['APP_SECRET_ZIP', { service: 'ssm', parameterName: '/zip' }]]), resolver, signal);
 * values.get('APP_SECRET_ZIP'); // the password, for the app's environment only
 * ```
 */
export async function resolveSecrets(
  references: ReadonlyMap<string, SecretReference>,
  resolver: SecretResolver,
  signal?: AbortSignal,
): Promise<Map<string, string>> {
  const byReference = new Map<string, Promise<string>>();
  const entries = [...references].map(async ([variable, reference]) => {
    const key = describeSecretReference(reference);
    let pending = byReference.get(key);
    if (!pending) {
      pending = resolver.resolve(reference, signal);
      byReference.set(key, pending);
    }
    try {
      return [variable, await pending] as const;
    } catch (err) {
      if (isAbortError(err)) throw err;
      if (err instanceof SecretResolutionError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new SecretResolutionError(variable, `cannot resolve ${key}: ${reason}`, { cause: err });
    }
  });
  return new Map(await Promise.all(entries));
}

/**
 * Picks `jsonKey` out of a secret stored as a JSON object (what the Secrets Manager console
 * writes for key/value secrets); without a key the whole string is the secret.
 *
 * @example
 * ```ts
 * pickSecretField('{"password":"s3cr3t"}', 'password', 'secretsmanager:app'); // 's3cr3t'
 * ```
 */
export function pickSecretField(secret: string, jsonKey: string | undefined, described: string): string {
  if (jsonKey === undefined) return secret;
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch (err) {
    // The parse error could quote the secret, so only its kind is kept.
    throw new Error(`${described} is not a JSON object, so #${jsonKey} cannot be read`, {
      cause: err instanceof Error ? err.name : undefined,
    });
  }
  const value =
    parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)[jsonKey]
      : undefined;
  if (value === undefined || value === null) throw new Error(`${described} has no field ${jsonKey}`);
  return typeof value === 'string' ? value : JSON.stringify(value);
}
