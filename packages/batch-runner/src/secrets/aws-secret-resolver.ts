import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { describeSecretReference, type SecretReference } from './secret-reference.ts';
import { pickSecretField, type SecretResolver } from './secret-resolver.ts';

export interface AwsSecretResolverOptions {
  readonly secretsManager: SecretsManagerClient;
  readonly ssm: SSMClient;
}

/**
 * `SecretResolver` on AWS: Secrets Manager `GetSecretValue` (the string form; a binary secret
 * is read as UTF-8) and SSM `GetParameter` with decryption. The job role needs
 * `secretsmanager:GetSecretValue` / `ssm:GetParameter` (and `kms:Decrypt` for customer keys)
 * on exactly the referenced secrets.
 *
 * No emulator of either service exists, so this adapter is unit-tested with stubbed clients;
 * the port's behaviour is tested with fakes.
 *
 * @example
 * ```ts
 * const resolver = new AwsSecretResolver({ secretsManager: new SecretsManagerClient({}), ssm: new SSMClient({}) });
 * const password = await resolver.resolve({ service: 'ssm', parameterName: '/jobs/zip' }, signal);
 * ```
 */
export class AwsSecretResolver implements SecretResolver {
  readonly #secretsManager: SecretsManagerClient;
  readonly #ssm: SSMClient;

  constructor(options: AwsSecretResolverOptions) {
    this.#secretsManager = options.secretsManager;
    this.#ssm = options.ssm;
  }

  async resolve(reference: SecretReference, signal?: AbortSignal): Promise<string> {
    const described = describeSecretReference(reference);
    try {
      if (reference.service === 'ssm') {
        const out = await this.#ssm.send(
          new GetParameterCommand({ Name: reference.parameterName, WithDecryption: true }),
          { abortSignal: signal },
        );
        const value = out.Parameter?.Value;
        if (value === undefined) throw new Error(`${described} has no value`);
        return value;
      }
      const out = await this.#secretsManager.send(
        new GetSecretValueCommand({ SecretId: reference.secretId }),
        {
          abortSignal: signal,
        },
      );
      const secret =
        out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString('utf8') : undefined);
      if (secret === undefined) throw new Error(`${described} has no value`);
      return pickSecretField(secret, reference.jsonKey, described);
    } catch (err) {
      // SDK errors carry the service's message (never the secret); keep the name for the log.
      const name = err instanceof Error ? err.name : 'Error';
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`${name}: ${message}`, { cause: err });
    }
  }
}
