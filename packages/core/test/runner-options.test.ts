import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../src/errors.ts';
import { silentLogger } from '../src/observability/create-logger.ts';
import { Runner } from '../src/runner/runner.ts';
import { compileRunnerOptions, type RunnerOptions } from '../src/runner/runner-options.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { systemClock } from '../src/time/system-clock.ts';
import { FakeQueue } from './support/fake-queue.ts';
import { MemoryBlobStore } from './support/memory-blob-store.ts';
import { memoryClaimStore } from './support/memory-claims.ts';
import { TestInterruptionSource } from './support/test-interruption-source.ts';

const queue = new FakeQueue(new ManualClock());
const job = { schema: z.object({}), handle: () => {} };

function issuesOf(options: unknown): readonly string[] {
  try {
    compileRunnerOptions(options as RunnerOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues;
  }
  throw new Error('expected a ValidationError');
}

describe('compileRunnerOptions', () => {
  it('fills defaults and normalises the heartbeat from the visibility timeout', () => {
    const compiled = compileRunnerOptions({ queue, job });
    expect(compiled).toMatchObject({
      concurrency: 10,
      visibilitySeconds: 30,
      heartbeatIntervalMs: 5_000,
      heartbeatThresholdMs: 15_000,
      jobTimeoutMs: 900_000,
      abortGraceMs: 5_000,
      maxAttempts: 5,
      backoff: { initialSeconds: 5, maxSeconds: 900, multiplier: 2, jitter: 'equal' },
      maxBodyBytes: 1_048_576,
      shutdownGraceMs: 25_000,
      pollWaitSeconds: 20,
      batchLingerMs: 5,
      handleSignals: false,
    });
    expect(compiled.logger).toBe(silentLogger);
    expect(compiled.clock).toBe(systemClock);
    expect(compiled.routing).toMatchObject({ kind: 'single', type: 'default' });
    expect(Object.isFrozen(compiled)).toBe(true);
    expect(compileRunnerOptions({ queue, visibilityTimeoutSeconds: 60, job }).heartbeatIntervalMs).toBe(
      10_000,
    );
  });

  it('merges partial backoff options over the defaults', () => {
    expect(compileRunnerOptions({ queue, job, backoff: { jitter: 'none' } }).backoff).toEqual({
      initialSeconds: 5,
      maxSeconds: 900,
      multiplier: 2,
      jitter: 'none',
    });
  });

  it('routes typed jobs by name', () => {
    const compiled = compileRunnerOptions({ queue, jobs: { a: job, b: job } });
    expect(compiled.routing.kind).toBe('typed');
    expect(compiled.routing.kind === 'typed' && [...compiled.routing.routes.keys()]).toEqual(['a', 'b']);
  });

  it('lists every problem at once', () => {
    expect(
      issuesOf({
        queue,
        job,
        concurrency: 0,
        visibilityTimeoutSeconds: 50_000,
        maxAttempts: 1.5,
        pollWaitSeconds: 21,
        maxBodyBytes: 2_000_000,
        concurency: 3,
      }),
    ).toEqual(
      expect.arrayContaining([
        'unknown option "concurency"',
        'concurrency must be a whole number >= 1',
        'visibilityTimeoutSeconds must be a whole number in 1..43200',
        'maxAttempts must be a whole number >= 1',
        'pollWaitSeconds must be a whole number in 0..20',
        'maxBodyBytes must be in 1..1048576',
      ]),
    );
  });

  it('rejects heartbeats that could arrive after the lease expired', () => {
    expect(issuesOf({ queue, job, visibilityTimeoutSeconds: 10, heartbeatThresholdMs: 10_000 })).toEqual([
      'heartbeatIntervalMs < heartbeatThresholdMs < visibilityTimeoutSeconds * 1000 must hold',
    ]);
    expect(issuesOf({ queue, job, heartbeatIntervalMs: 20_000 })).toHaveLength(1);
  });

  it('needs exactly one of jobs and job, each with a Standard Schema and a handler', () => {
    expect(issuesOf({ queue })).toEqual([
      'give exactly one of `jobs` (routed by type) or `job` (one kind of message)',
    ]);
    expect(issuesOf({ queue, job, jobs: { a: job } })).toHaveLength(1);
    expect(issuesOf({ queue, jobs: {} })).toEqual(['jobs must name at least one job type']);
    expect(issuesOf({ queue, jobs: { a: { schema: {}, handle: 1 } } })).toEqual([
      'jobs.a.schema must be a Standard Schema (e.g. a zod schema)',
      'jobs.a.handle must be a function',
    ]);
    expect(issuesOf({ job })).toEqual(['queue must implement the Queue port']);
  });

  it('rejects bad options from Runner.create before any I/O', async () => {
    await expect(Runner.create({ queue, job, concurrency: -1 })).rejects.toBeInstanceOf(ValidationError);
    expect(queue.calls).toEqual([]);
  });

  it('infers handler types from the schemas (compile-time check)', async () => {
    const runner = await Runner.create({
      queue,
      jobs: {
        build: {
          schema: z.object({ type: z.literal('build'), pkg: z.string() }),
          handle: (job) => {
            const pkg: string = job.pkg;
            // @ts-expect-error: not in the schema
            void job.missing;
            return pkg;
          },
        },
        ping: { schema: z.object({ type: z.literal('ping') }), handle: (job) => job.type satisfies 'ping' },
      },
    });
    expect(runner.state).toBe('INITIALIZED');
  });

  it('compiles interruptions with defaults: release policy, 5 s release margin, no drain', () => {
    const source = new TestInterruptionSource();
    const compiled = compileRunnerOptions({ queue, job, interruptions: { sources: [source] } });
    expect(compiled.interruptions).toEqual({
      sources: [source],
      hibernate: { policy: 'release', graceMs: 2_000, resumeAfterMs: 300_000 },
      releaseMarginMs: 5_000,
      drainMs: 0,
    });
    expect(Object.isFrozen(compiled.interruptions)).toBe(true);
    expect(compileRunnerOptions({ queue, job }).interruptions).toBeUndefined();
    expect(
      compileRunnerOptions({
        queue,
        job,
        interruptions: { sources: [], hibernate: { policy: 'hold', holdSeconds: 600 } },
      }).interruptions?.hibernate,
    ).toEqual({ policy: 'hold', holdSeconds: 600, resumeAfterMs: 300_000 });
  });

  it('rejects bad interruption options', () => {
    expect(
      issuesOf({
        queue,
        job,
        interruptions: {
          sources: [{}],
          releaseMarginMs: -1,
          drainMs: Number.NaN,
          hibernate: { policy: 'hold', holdSeconds: 50_000, graceMs: 1 },
          extra: 1,
        },
      }),
    ).toEqual([
      'unknown option "interruptions.extra"',
      'interruptions.sources[0] must implement InterruptionSource (watch)',
      'interruptions.releaseMarginMs must be in 0..600 000',
      'interruptions.drainMs must be >= 0',
      'interruptions.hibernate.graceMs applies to the release policy only',
      'interruptions.hibernate.holdSeconds must be a whole number in 1..43200',
    ]);
    expect(issuesOf({ queue, job, interruptions: { sources: [], hibernate: { policy: 'sleep' } } })).toEqual([
      "interruptions.hibernate.policy must be 'hold' or 'release'",
    ]);
    expect(issuesOf({ queue, job, interruptions: {} })).toEqual([
      'interruptions.sources must be an array of InterruptionSource',
    ]);
  });

  it('checks the checkpoint store, its size limit and job claims', () => {
    const { store } = memoryClaimStore();
    expect(compileRunnerOptions({ queue, job, checkpoints: new MemoryBlobStore() }).maxCheckpointBytes).toBe(
      1_048_576,
    );
    expect(
      issuesOf({
        queue,
        checkpoints: {},
        maxCheckpointBytes: 0,
        jobs: {
          a: { ...job, claim: { store, key: () => 'k', ttlMs: 10_000 } },
          b: { ...job, claim: { store: {}, key: 'k' } },
        },
      }),
    ).toEqual([
      'checkpoints must implement the BlobStore port',
      'maxCheckpointBytes must be a whole number in 1..10485760',
      'jobs.a.claim.ttlMs must be a whole number above twice heartbeatIntervalMs (10000)',
      'jobs.b.claim.store must be a ClaimStore',
      'jobs.b.claim.key must be a function',
    ]);
  });
});
