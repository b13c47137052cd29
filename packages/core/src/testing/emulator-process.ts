// Runs one AWS emulator in its own process on a random loopback port and prints
// `{"port":N}` on stdout once it answers; `startEmulators` spawns it. A separate process
// keeps emulator CPU out of the test or benchmark process being measured.
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

const kind = process.argv[2];
const require = createRequire(import.meta.url);

async function listen(): Promise<number> {
  if (kind === 'fauxqs') {
    const { buildApp } = await import('fauxqs');
    const app = buildApp({ logger: false, host: '127.0.0.1' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return (app.server.address() as AddressInfo).port;
  }
  if (kind === 'dynalite') {
    const dynalite = require('dynalite') as (options: object) => import('node:http').Server;
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }
  throw new Error(`unknown emulator ${kind}`);
}

const port = await listen();
process.stdout.write(`${JSON.stringify({ port })}\n`);
// Die with the parent: a test run that is killed must not leave emulators behind.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
