import { ValidationError } from '@spotjobs/core';

// The gateway's settings, read from an environment record (the entry passes `process.env`) and
// checked once into a frozen object. It reads the same Table the nodes write (a local data
// directory or a DynamoDB table), and lists ECS tasks when a cluster is named.

/** Where the nodes' Table is. */
export type GatewayBackendConfig =
  | { readonly kind: 'local'; readonly dataDir: string }
  | { readonly kind: 'aws'; readonly tableName: string };

export interface GatewayConfig {
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  readonly host: string;
  readonly port: number;
  readonly credentials: { readonly username: string; readonly password: string };
  readonly backend: GatewayBackendConfig;
  /** Set on AWS: the ECS cluster (and optionally the node service) to list tasks from. */
  readonly ecs: { readonly cluster: string; readonly serviceName: string | undefined } | undefined;
  /** Failed logins per client per minute before it gets 429s. */
  readonly maxLoginFailures: number;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * The gateway's configuration from environment variables (table in README-web.md). Throws
 * core's `ValidationError` naming every problem at once.
 *
 * @example
 * ```ts
 * const config = gatewayConfig({ FOSSA_GATEWAY_PASSWORD: 's3cr3t-pass', FOSSA_DATA_DIR: '/var/lib/fossa' });
 * config.port; // 5050
 * ```
 */
export function gatewayConfig(env: Readonly<Record<string, string | undefined>>): GatewayConfig {
  const issues: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      issues.push(`${name} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };

  const logLevel = text('FOSSA_LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    issues.push(`FOSSA_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const username = text('FOSSA_GATEWAY_USERNAME') ?? 'fossa';
  if (username.includes(':')) issues.push('FOSSA_GATEWAY_USERNAME must not contain a colon');
  // The password is taken as is (not trimmed): spaces may be part of it.
  const password = env.FOSSA_GATEWAY_PASSWORD ?? '';
  if (password.length < 8) issues.push('FOSSA_GATEWAY_PASSWORD is required, at least 8 characters');

  const dataDir = text('FOSSA_DATA_DIR');
  const tableName = text('FOSSA_TABLE_NAME');
  let backend: GatewayBackendConfig = { kind: 'local', dataDir: dataDir ?? '' };
  if (dataDir !== undefined && tableName !== undefined)
    issues.push('set FOSSA_DATA_DIR (local) or FOSSA_TABLE_NAME (DynamoDB), not both');
  else if (tableName !== undefined) {
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(tableName))
      issues.push('FOSSA_TABLE_NAME must be a DynamoDB table name');
    backend = { kind: 'aws', tableName };
  } else if (dataDir === undefined)
    issues.push('FOSSA_DATA_DIR or FOSSA_TABLE_NAME is required (the nodes’ Table)');

  const cluster = text('FOSSA_ECS_CLUSTER');
  const serviceName = text('FOSSA_ECS_SERVICE');
  if (serviceName !== undefined && cluster === undefined)
    issues.push('FOSSA_ECS_SERVICE needs FOSSA_ECS_CLUSTER');

  const config: GatewayConfig = {
    logLevel: logLevel as GatewayConfig['logLevel'],
    host: text('FOSSA_GATEWAY_HOST') ?? '0.0.0.0',
    port: integer('FOSSA_GATEWAY_PORT', 5050, 0, 65_535),
    credentials: Object.freeze({ username, password }),
    backend: Object.freeze(backend),
    ecs: cluster === undefined ? undefined : Object.freeze({ cluster, serviceName }),
    maxLoginFailures: integer('FOSSA_GATEWAY_MAX_LOGIN_FAILURES', 10, 1, 10_000),
  };
  if (issues.length > 0) throw new ValidationError('invalid gateway settings', issues);
  return Object.freeze(config);
}
