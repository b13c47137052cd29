// The Fossa gateway as a child process for the integration tests: gateway-main.ts over a local
// data directory, on loopback with a random port, ready once it logs its URL.
import { fileURLToPath } from 'node:url';
import { type JsonLogProcess, startJsonLogProcess } from '@spotjobs/core/testing';
import { vi } from 'vitest';

export const gatewayMain = fileURLToPath(new URL('../../src/gateway-main.ts', import.meta.url));

/** Starts the gateway on the nodes' Table in `dataDir` and waits for its "listening" line. */
export async function startGateway(
  dataDir: string,
  password: string,
): Promise<{ gateway: JsonLogProcess; url: string }> {
  const gateway = startJsonLogProcess(gatewayMain, {
    FOSSA_DATA_DIR: dataDir,
    FOSSA_GATEWAY_PASSWORD: password,
    FOSSA_GATEWAY_HOST: '127.0.0.1',
    FOSSA_GATEWAY_PORT: '0',
  });
  const url = await vi.waitFor(
    () => {
      const line = gateway.lines.find((l) => l.msg === 'fossa gateway listening');
      if (!line) throw new Error(`gateway not listening yet; stderr: ${gateway.stderr()}`);
      return String(line.url);
    },
    { timeout: 30_000, interval: 50 },
  );
  return { gateway, url };
}
