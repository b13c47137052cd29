// A child process for claims.int.test.ts: opens the same table as the parent (a shared local
// data dir, or the same dynalite table) and either races for keys or holds one until killed.
// Config comes as JSON in argv[2]; results go to stdout as JSON lines.
import { createInterface } from 'node:readline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoTable } from '../src/adapters/aws/index.ts';
import { openLocalStore } from '../src/adapters/local/index.ts';
import { ClaimStore } from '../src/claims/claim-store.ts';
import { LeaseLostError } from '../src/errors.ts';
import type { Table } from '../src/ports/table.ts';
import { awsTestClientConfig } from '../src/testing/emulators.ts';

export type ChildBackend =
  | { readonly kind: 'local'; readonly dataDir: string; readonly table: string }
  | { readonly kind: 'dynamo'; readonly endpoint: string; readonly tableName: string };

export interface ChildConfig {
  readonly backend: ChildBackend;
  readonly partition: string;
  readonly owner: string;
  readonly keys: readonly string[];
  /** `race`: wait for "go" on stdin, claim every key, complete the ones won. `hold`: claim keys[0] and hang. */
  readonly mode: 'race' | 'hold';
  readonly ttlMs: number;
}

const config = JSON.parse(process.argv[2]!) as ChildConfig;

async function openTable(backend: ChildBackend): Promise<Table> {
  if (backend.kind === 'local')
    return (await openLocalStore({ dataDir: backend.dataDir })).table(backend.table);
  const client = new DynamoDBClient({ ...awsTestClientConfig, endpoint: backend.endpoint });
  return new DynamoTable({ client, tableName: backend.tableName });
}

const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

const claims = new ClaimStore({ table: await openTable(config.backend), partition: config.partition });

if (config.mode === 'hold') {
  const claim = await claims.claim(config.keys[0]!, config.owner, { ttlMs: config.ttlMs });
  print({ claim });
  setInterval(() => {}, 60_000); // hold until killed
} else {
  // Warm up (open the database, prepare statements, connect) so both racers start at full speed.
  const warm = new ClaimStore({
    table: await openTable(config.backend),
    partition: `${config.partition}-warmup`,
  });
  const warmup = await warm.claim(config.owner, config.owner, { ttlMs: config.ttlMs });
  await warm.release(warmup!);
  print({ ready: true });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line === 'go') break;
  const won: { key: string; token: number }[] = [];
  let lostBeforeComplete = 0;
  for (const key of config.keys) {
    const claim = await claims.claim(key, config.owner, { ttlMs: config.ttlMs });
    if (!claim) continue;
    try {
      await claims.complete(claim, { owner: config.owner, token: claim.token });
      won.push({ key, token: claim.token });
    } catch (err) {
      if (!(err instanceof LeaseLostError)) throw err;
      lostBeforeComplete++;
    }
  }
  print({ won, lostBeforeComplete });
  process.exit(0);
}
