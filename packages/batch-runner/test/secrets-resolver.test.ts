import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { SecretResolutionError } from '../src/run/runner-errors.ts';
import { AwsSecretResolver } from '../src/secrets/aws-secret-resolver.ts';
import type { SecretReference } from '../src/secrets/secret-reference.ts';
import { resolveSecrets, type SecretResolver } from '../src/secrets/secret-resolver.ts';

// No emulator exists for Secrets Manager or SSM: the port is tested with a fake resolver, and
// the AWS adapter with stub clients that record the commands it sends.

function fakeResolver(values: Record<string, string>): SecretResolver & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async resolve(reference) {
      const id = reference.service === 'ssm' ? reference.parameterName : reference.secretId;
      calls.push(id);
      const value = values[id];
      if (value === undefined) throw new Error(`ResourceNotFoundException: ${id} not found`);
      return value;
    },
  };
}

describe('resolveSecrets', () => {
  it('resolves each variable, fetching a shared reference once', async () => {
    const resolver = fakeResolver({ '/zip': 'zip-pass', prod: 'db-pass' });
    const values = await resolveSecrets(
      new Map<string, SecretReference>([
        ['APP_SECRET_ZIP', { service: 'ssm', parameterName: '/zip' }],
        ['APP_SECRET_ZIP_AGAIN', { service: 'ssm', parameterName: '/zip' }],
        ['APP_SECRET_DB', { service: 'secretsmanager', secretId: 'prod' }],
      ]),
      resolver,
    );
    expect(Object.fromEntries(values)).toEqual({
      APP_SECRET_ZIP: 'zip-pass',
      APP_SECRET_ZIP_AGAIN: 'zip-pass',
      APP_SECRET_DB: 'db-pass',
    });
    expect(resolver.calls.sort()).toEqual(['/zip', 'prod']);
  });

  it('fails with the variable and the reference, for exit 78', async () => {
    const failure = resolveSecrets(
      new Map<string, SecretReference>([['APP_SECRET_GONE', { service: 'ssm', parameterName: '/gone' }]]),
      fakeResolver({}),
    );
    await expect(failure).rejects.toBeInstanceOf(SecretResolutionError);
    await expect(failure).rejects.toMatchObject({
      variable: 'APP_SECRET_GONE',
      exitCode: 78,
      message: 'APP_SECRET_GONE: cannot resolve ssm:/gone: ResourceNotFoundException: /gone not found',
    });
  });
});

describe('AwsSecretResolver', () => {
  function stubs(answers: { ssm?: unknown; secretsManager?: unknown; fail?: Error }) {
    const sent: Array<{ name: string; input: unknown }> = [];
    const client = (answer: unknown) =>
      ({
        async send(command: { constructor: { name: string }; input: unknown }) {
          sent.push({ name: command.constructor.name, input: command.input });
          if (answers.fail) throw answers.fail;
          return answer;
        },
      }) as unknown;
    const resolver = new AwsSecretResolver({
      ssm: client(answers.ssm) as SSMClient,
      secretsManager: client(answers.secretsManager) as SecretsManagerClient,
    });
    return { resolver, sent };
  }

  it('reads SSM parameters with decryption', async () => {
    const { resolver, sent } = stubs({ ssm: { Parameter: { Value: 'p@ss' } } });
    await expect(resolver.resolve({ service: 'ssm', parameterName: '/jobs/zip' })).resolves.toBe('p@ss');
    expect(sent).toEqual([
      { name: 'GetParameterCommand', input: { Name: '/jobs/zip', WithDecryption: true } },
    ]);
  });

  it('reads Secrets Manager strings, binaries and one field of a JSON secret', async () => {
    const plain = stubs({ secretsManager: { SecretString: 'whole' } });
    await expect(plain.resolver.resolve({ service: 'secretsmanager', secretId: 'app' })).resolves.toBe(
      'whole',
    );
    expect(plain.sent).toEqual([{ name: 'GetSecretValueCommand', input: { SecretId: 'app' } }]);
    const binary = stubs({ secretsManager: { SecretBinary: new TextEncoder().encode('bytes') } });
    await expect(binary.resolver.resolve({ service: 'secretsmanager', secretId: 'bin' })).resolves.toBe(
      'bytes',
    );
    const json = stubs({ secretsManager: { SecretString: '{"user":"u","password":"p4ss","port":5432}' } });
    await expect(
      json.resolver.resolve({ service: 'secretsmanager', secretId: 'db', jsonKey: 'password' }),
    ).resolves.toBe('p4ss');
    await expect(
      json.resolver.resolve({ service: 'secretsmanager', secretId: 'db', jsonKey: 'port' }),
    ).resolves.toBe('5432');
    await expect(
      json.resolver.resolve({ service: 'secretsmanager', secretId: 'db', jsonKey: 'missing' }),
    ).rejects.toThrow('secretsmanager:db#missing has no field missing');
  });

  it('never quotes a secret that is not JSON when a key is asked for', async () => {
    const { resolver } = stubs({ secretsManager: { SecretString: 'not-json-s3cr3t' } });
    const error = await resolver
      .resolve({ service: 'secretsmanager', secretId: 'x', jsonKey: 'k' })
      .catch((e: Error) => e);
    expect(String(error)).toContain('is not a JSON object');
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('s3cr3t');
  });

  it('passes the service error name on (access denied, not found)', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform ssm:GetParameter'), {
      name: 'AccessDeniedException',
    });
    const { resolver } = stubs({ fail: denied });
    await expect(resolver.resolve({ service: 'ssm', parameterName: '/x' })).rejects.toThrow(
      'AccessDeniedException: User is not authorized to perform ssm:GetParameter',
    );
  });
});
