import { describe, expect, it, vi } from 'vitest';
import type { AdmissionReport, Invocation } from '../src/triggers/admission-types.ts';
import { createS3LambdaHandler } from '../src/triggers/lambda-handler.ts';

const report: AdmissionReport = { handler: 'probe', records: [] };

describe('createS3LambdaHandler', () => {
  it('owns claims by the Lambda request id and aborts the work shortly before the deadline', async () => {
    const seen: Invocation[] = [];
    const handler = createS3LambdaHandler({
      async handle(_event, invocation) {
        seen.push(invocation);
        await new Promise((resolve) => invocation.signal.addEventListener('abort', resolve, { once: true }));
        return report;
      },
    });

    const timeout = vi.spyOn(AbortSignal, 'timeout');
    await handler(
      { Records: [] },
      { awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef', getRemainingTimeInMillis: () => 3_050 },
    );
    const calls = timeout.mock.calls.map((call) => call[0]);
    timeout.mockRestore();

    expect(seen[0]?.owner).toBe('c6af9ac6-7b61-11e6-9a41-93e8deadbeef');
    expect(seen[0]?.signal.aborted).toBe(true);
    // 3050 ms left, 3000 ms kept back to release claims: the work is cut after 50 ms.
    expect(calls).toEqual([50]);
  });

  it('composes once, and tries again after a failed composition', async () => {
    let compositions = 0;
    const handler = createS3LambdaHandler(() => {
      compositions++;
      if (compositions === 1) throw new Error('bad configuration');
      return { handle: async () => report };
    });

    await expect(handler({})).rejects.toThrow('bad configuration');
    expect(await handler({})).toBe(report);
    expect(await handler({})).toBe(report);
    expect(compositions).toBe(2);
  });

  it('passes a handler failure on, so Lambda retries the event', async () => {
    const handler = createS3LambdaHandler({
      handle: async () => {
        throw new Error('retry me');
      },
    });

    await expect(handler({}, { awsRequestId: 'r' })).rejects.toThrow('retry me');
  });
});
