import { ValidationError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { gatewayConfig } from '../src/gateway/gateway-config.ts';

describe('gatewayConfig', () => {
  it('fills defaults for a local gateway', () => {
    expect(gatewayConfig({ FOSSA_GATEWAY_PASSWORD: ' long pass ', FOSSA_DATA_DIR: '/srv/fossa' })).toEqual({
      logLevel: 'info',
      host: '0.0.0.0',
      port: 5050,
      credentials: { username: 'fossa', password: ' long pass ' },
      backend: { kind: 'local', dataDir: '/srv/fossa' },
      ecs: undefined,
      maxLoginFailures: 10,
    });
  });

  it('reads the AWS settings', () => {
    const config = gatewayConfig({
      FOSSA_GATEWAY_PASSWORD: 'p4ssw0rd-long',
      FOSSA_GATEWAY_USERNAME: 'ops',
      FOSSA_GATEWAY_PORT: '80',
      FOSSA_TABLE_NAME: 'fossa-tasks',
      FOSSA_ECS_CLUSTER: 'fossa-cluster',
      FOSSA_ECS_SERVICE: 'fossa-service',
      FOSSA_GATEWAY_MAX_LOGIN_FAILURES: '3',
      FOSSA_LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({
      port: 80,
      logLevel: 'warn',
      credentials: { username: 'ops' },
      backend: { kind: 'aws', tableName: 'fossa-tasks' },
      ecs: { cluster: 'fossa-cluster', serviceName: 'fossa-service' },
      maxLoginFailures: 3,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every problem at once', () => {
    let error: unknown;
    try {
      gatewayConfig({
        FOSSA_GATEWAY_PASSWORD: 'short',
        FOSSA_GATEWAY_USERNAME: 'a:b',
        FOSSA_GATEWAY_PORT: '70000',
        FOSSA_ECS_SERVICE: 'svc',
        FOSSA_LOG_LEVEL: 'loud',
        FOSSA_GATEWAY_MAX_LOGIN_FAILURES: '0',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      'FOSSA_LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent',
      'FOSSA_GATEWAY_USERNAME must not contain a colon',
      'FOSSA_GATEWAY_PASSWORD is required, at least 8 characters',
      'FOSSA_DATA_DIR or FOSSA_TABLE_NAME is required (the nodes’ Table)',
      'FOSSA_ECS_SERVICE needs FOSSA_ECS_CLUSTER',
      'FOSSA_GATEWAY_PORT must be a whole number from 0 to 65535',
      'FOSSA_GATEWAY_MAX_LOGIN_FAILURES must be a whole number from 1 to 10000',
    ]);
  });

  it('refuses both backends at once and a bad table name', () => {
    expect(() =>
      gatewayConfig({
        FOSSA_GATEWAY_PASSWORD: 'long enough',
        FOSSA_DATA_DIR: '/d',
        FOSSA_TABLE_NAME: 't-table',
      }),
    ).toThrow(/not both/);
    expect(() => gatewayConfig({ FOSSA_GATEWAY_PASSWORD: 'long enough', FOSSA_TABLE_NAME: 'x' })).toThrow(
      /DynamoDB table name/,
    );
  });
});
