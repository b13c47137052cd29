// What an `APP_SECRET_*` variable may hold: a pointer to a secret, never the secret itself
// (SCAR's archive password sat in plaintext in a script uploaded to S3, then on a command line).

/** Where a secret lives. `jsonKey` picks one field of a Secrets Manager secret stored as JSON. */
export type SecretReference =
  | { readonly service: 'secretsmanager'; readonly secretId: string; readonly jsonKey?: string }
  | { readonly service: 'ssm'; readonly parameterName: string };

const SECRETS_MANAGER_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const SSM_ARN = /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9/_.-]+$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const PARAMETER_NAME = /^\/[A-Za-z0-9/_.-]{1,2047}$/;
const JSON_KEY = /^[A-Za-z0-9_.@-]{1,256}$/;

/**
 * Parses a secret reference:
 * - `arn:aws:secretsmanager:<region>:<account>:secret:<name>` or `secretsmanager:<name>`, each
 *   optionally followed by `#<json-key>` to take one field of a JSON secret;
 * - `arn:aws:ssm:<region>:<account>:parameter/<path>` or `ssm:/<path>` (SecureString decrypted).
 *
 * Anything else (a plain value above all) is a problem: plaintext secrets are refused.
 *
 * @example
 * ```ts
 * parseSecretReference('ssm:/jobs/archive-password');
 * // { reference: { service: 'ssm', parameterName: '/jobs/archive-password' } }
 * parseSecretReference('arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf#password');
 * // { reference: { service: 'secretsmanager', secretId: 'arn:...:secret:app-AbCdEf', jsonKey: 'password' } }
 * ```
 */
export function parseSecretReference(value: string): { reference: SecretReference } | { problem: string } {
  const text = value.trim();
  const refused = {
    problem:
      'must be a secret reference (arn:aws:secretsmanager:..., secretsmanager:<name>, arn:aws:ssm:...:parameter/..., ssm:/<path>); plaintext values are refused',
  };
  if (text.startsWith('ssm:')) {
    const parameterName = text.slice('ssm:'.length);
    return PARAMETER_NAME.test(parameterName)
      ? { reference: { service: 'ssm', parameterName } }
      : { problem: 'ssm: must be followed by a parameter path starting with / (letters, digits, /_.-)' };
  }
  if (SSM_ARN.test(text)) return { reference: { service: 'ssm', parameterName: text } };
  const [id = '', jsonKey, ...extra] = text.split('#');
  if (extra.length > 0) return { problem: 'has more than one #' };
  if (jsonKey !== undefined && !JSON_KEY.test(jsonKey))
    return { problem: `#${jsonKey} is not a JSON key (letters, digits, _.@-)` };
  const withKey = (secretId: string): { reference: SecretReference } => ({
    reference:
      jsonKey === undefined
        ? { service: 'secretsmanager', secretId }
        : { service: 'secretsmanager', secretId, jsonKey },
  });
  if (id.startsWith('secretsmanager:')) {
    const name = id.slice('secretsmanager:'.length);
    return SECRET_NAME.test(name)
      ? withKey(name)
      : { problem: 'secretsmanager: must be followed by a secret name' };
  }
  if (SECRETS_MANAGER_ARN.test(id)) return withKey(id);
  return refused;
}

/** A reference as text for logs and errors (it names the secret, never reveals it). */
export function describeSecretReference(reference: SecretReference): string {
  return reference.service === 'ssm'
    ? `ssm:${reference.parameterName}`
    : `secretsmanager:${reference.secretId}${reference.jsonKey === undefined ? '' : `#${reference.jsonKey}`}`;
}
