import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Table } from '@spotjobs/core';
import { DynamoTable } from '@spotjobs/core/aws';
import { openLocalStore } from '@spotjobs/core/local';
import { localTableName } from '../node/fossa-daemon.ts';
import type { GatewayBackendConfig } from './gateway-config.ts';

/**
 * Opens the Table the nodes write, for reading: the local data directory's `fossa` table (the
 * nodes' own name for it), or the DynamoDB table with the SDK's usual region, credentials and
 * endpoint settings.
 *
 * @example
 * ```ts
 * const { table, close } = await openGatewayTable({ kind: 'local', dataDir: '/var/lib/fossa' });
 * ```
 */
export async function openGatewayTable(
  backend: GatewayBackendConfig,
): Promise<{ readonly table: Table; close(): Promise<void> }> {
  if (backend.kind === 'local') {
    const store = await openLocalStore({ dataDir: backend.dataDir });
    return { table: store.table(localTableName), close: () => store.close() };
  }
  const dynamodb = new DynamoDBClient({});
  return {
    table: new DynamoTable({ client: dynamodb, tableName: backend.tableName }),
    async close() {
      dynamodb.destroy();
    },
  };
}
