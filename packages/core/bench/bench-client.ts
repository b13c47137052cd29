import { SQSClient } from '@aws-sdk/client-sqs';
import { awsTestClientConfig } from '../src/testing/emulators.ts';

/**
 * The SQS client settings both sides of every comparison get: the test credentials and
 * region, the emulator endpoint, and the SDK's default keep-alive HTTP agent. Each drain gets
 * a client of its own, so neither side inherits the other's warm sockets or counters.
 *
 * @example
 * ```ts
 * const client = createBenchClient(emulators.endpoints.sqs);
 * client.destroy();
 * ```
 */
export function createBenchClient(endpoint: string): SQSClient {
  return new SQSClient({ ...awsTestClientConfig, endpoint });
}
