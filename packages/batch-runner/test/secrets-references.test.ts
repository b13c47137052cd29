import { describe, expect, it } from 'vitest';
import { describeSecretReference, parseSecretReference } from '../src/secrets/secret-reference.ts';

describe('secret references', () => {
  it('parses SSM parameters by path and by ARN', () => {
    expect(parseSecretReference('ssm:/jobs/archive-password')).toEqual({
      reference: { service: 'ssm', parameterName: '/jobs/archive-password' },
    });
    expect(parseSecretReference('arn:aws:ssm:eu-west-1:123456789012:parameter/jobs/zip')).toEqual({
      reference: { service: 'ssm', parameterName: 'arn:aws:ssm:eu-west-1:123456789012:parameter/jobs/zip' },
    });
  });

  it('parses Secrets Manager secrets by ARN or name, with an optional JSON key', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app-AbCdEf';
    expect(parseSecretReference(arn)).toEqual({ reference: { service: 'secretsmanager', secretId: arn } });
    expect(parseSecretReference(`${arn}#password`)).toEqual({
      reference: { service: 'secretsmanager', secretId: arn, jsonKey: 'password' },
    });
    expect(parseSecretReference('secretsmanager:prod/app')).toEqual({
      reference: { service: 'secretsmanager', secretId: 'prod/app' },
    });
  });

  it('refuses plain values and malformed references', () => {
    for (const value of [
      'hunter2',
      '',
      'ssm:relative',
      'ssm:/a b',
      'secretsmanager:',
      'arn:aws:s3:::bucket/key',
      'secretsmanager:x#a#b',
      'secretsmanager:x#bad key',
    ]) {
      expect(parseSecretReference(value), value).toHaveProperty('problem');
    }
  });

  it('describes a reference without revealing anything', () => {
    expect(describeSecretReference({ service: 'secretsmanager', secretId: 'app', jsonKey: 'pw' })).toBe(
      'secretsmanager:app#pw',
    );
    expect(describeSecretReference({ service: 'ssm', parameterName: '/x' })).toBe('ssm:/x');
  });
});
