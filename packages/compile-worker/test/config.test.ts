import { hostname } from 'node:os';
import { ValidationError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';

describe('loadConfig', () => {
  it('has working defaults for the embedded backend', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      backend: 'local',
      http: { host: '127.0.0.1', port: 8080, publicUrl: undefined },
      api: { apiKeys: [], openReads: true, stage: 'LATEST', presignSeconds: 900 },
      profile: { imageDigest: 'unpinned', arch: 'amd64', makeConfProfile: 'pacloud-2018' },
      policy: { failedRetryAfterMs: 3_600_000, enqueueGraceMs: 30_000, maxAttempts: 3 },
      local: { dataDir: '/var/lib/spotjobs-compile', queueName: 'compile', tableName: 'spotjobs-compile' },
      aws: undefined,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.api.apiKeys)).toBe(true);
    expect(Object.isFrozen(config.policy)).toBe(true);
  });

  it('reads every setting', () => {
    const config = loadConfig({
      SPOTJOBS_COMPILE_BACKEND: 'aws',
      SPOTJOBS_COMPILE_API_KEYS: 'k1-0123456789abcdef, k2-0123456789abcdef',
      SPOTJOBS_COMPILE_API_KEY_SHA256: `${'A'.repeat(64)},${'b'.repeat(64)}`,
      SPOTJOBS_COMPILE_OPEN_READS: 'false',
      SPOTJOBS_COMPILE_PORT: '9000',
      SPOTJOBS_COMPILE_PUBLIC_URL: 'https://compile.example.org/',
      SPOTJOBS_COMPILE_IMAGE_DIGEST: `sha256:${'0'.repeat(64)}`,
      SPOTJOBS_COMPILE_FAILED_RETRY_AFTER_SECONDS: '60',
      SPOTJOBS_COMPILE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/compile',
      SPOTJOBS_COMPILE_BUCKET: 'artifacts',
      SPOTJOBS_COMPILE_TABLE: 'compile-builds',
    });
    expect(config.api.apiKeys).toEqual(['k1-0123456789abcdef', 'k2-0123456789abcdef']);
    expect(config.api.apiKeySha256).toEqual(['a'.repeat(64), 'b'.repeat(64)]);
    expect(config.api.openReads).toBe(false);
    expect(config.http.port).toBe(9000);
    expect(config.policy.failedRetryAfterMs).toBe(60_000);
    expect(config.aws).toMatchObject({
      bucket: 'artifacts',
      tableName: 'compile-builds',
      forcePathStyle: false,
    });
  });

  it('names every wrong variable, and never echoes a key', () => {
    let error: unknown;
    try {
      loadConfig({
        SPOTJOBS_COMPILE_BACKEND: 'aws',
        SPOTJOBS_COMPILE_PORT: '70000',
        SPOTJOBS_COMPILE_API_KEYS: 'short-secret',
        SPOTJOBS_COMPILE_ARCH: 'AMD 64',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const issues = (error as ValidationError).issues.join('\n');
    for (const name of [
      'SPOTJOBS_COMPILE_PORT',
      'SPOTJOBS_COMPILE_QUEUE_URL',
      'SPOTJOBS_COMPILE_BUCKET',
      'SPOTJOBS_COMPILE_IMAGE_DIGEST',
    ])
      expect(issues).toContain(name);
    expect(issues).not.toContain('short-secret');
  });

  it('checks keys and the builder profile once the basics parse', () => {
    expect(() => loadConfig({ SPOTJOBS_COMPILE_API_KEYS: 'short-secret' })).toThrow(/key 1 must be 16-256/);
    expect(() => loadConfig({ SPOTJOBS_COMPILE_API_KEY_SHA256: `${'a'.repeat(64)} abc` })).toThrow(
      /SPOTJOBS_COMPILE_API_KEY_SHA256: digest 2 must be 64 hex digits/,
    );
    expect(() => loadConfig({ SPOTJOBS_COMPILE_ARCH: 'AMD 64' })).toThrow(/SPOTJOBS_COMPILE_ARCH/);
    expect(() => loadConfig({ SPOTJOBS_COMPILE_IMAGE_DIGEST: 'latest' })).toThrow(
      /SPOTJOBS_COMPILE_IMAGE_DIGEST/,
    );
  });
});

describe('loadConfig: the build daemon', () => {
  it('defaults to one build per host, Docker when it answers, and a hostname worker id', () => {
    const { worker } = loadConfig({ SPOTJOBS_COMPILE_DATA_DIR: '/srv/compile/' });
    expect(worker).toMatchObject({
      workerId: hostname(),
      concurrency: 1,
      executor: 'auto',
      builderImage: 'docker.io/gentoo/stage3:latest',
      workDir: '/srv/compile/builds',
      cacheDir: '/var/cache/spotjobs-compile/binpkgs',
      cacheMaxBytes: 20 * 2 ** 30,
      treeDir: undefined,
      build: { memoryBytes: undefined, cpus: undefined, pidsLimit: 4096, timeoutMs: 7_200_000 },
      visibilitySeconds: 120,
      shutdownGraceMs: 30_000,
      imds: false,
      hibernate: { policy: 'release' },
      sleepSocket: '/run/spotjobs/sleep-hook.sock',
      healthPort: 9464,
      cron: { treeRefresh: '30 3 * * *', prune: '17 * * * *', reclaim: '*/5 * * * *' },
    });
  });

  it('watches spot notices by default on AWS, and reads every daemon setting', () => {
    const { worker } = loadConfig({
      SPOTJOBS_COMPILE_BACKEND: 'aws',
      SPOTJOBS_COMPILE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/compile',
      SPOTJOBS_COMPILE_BUCKET: 'artifacts',
      SPOTJOBS_COMPILE_IMAGE_DIGEST: `sha256:${'0'.repeat(64)}`,
      SPOTJOBS_COMPILE_WORKER_ID: 'i-0123456789abcdef0',
      SPOTJOBS_COMPILE_CONCURRENCY: '4',
      SPOTJOBS_COMPILE_BUILDER_IMAGE: `registry.example.org:5000/gentoo/builder:2026.11@sha256:${'a'.repeat(64)}`,
      SPOTJOBS_COMPILE_BUILD_MEMORY_MIB: '6144',
      SPOTJOBS_COMPILE_BUILD_CPUS: '1.5',
      SPOTJOBS_COMPILE_CACHE_MAX_GIB: '0.5',
      SPOTJOBS_COMPILE_TREE_DIR: '/var/cache/spotjobs-compile/portage',
      SPOTJOBS_COMPILE_HIBERNATE: 'hold',
      SPOTJOBS_COMPILE_HIBERNATE_HOLD_SECONDS: '600',
      SPOTJOBS_COMPILE_CRON_PRUNE: '0 */6 * * *',
    });
    expect(worker).toMatchObject({
      workerId: 'i-0123456789abcdef0',
      concurrency: 4,
      imds: true,
      build: { memoryBytes: 6144 * 2 ** 20, cpus: 1.5 },
      cacheMaxBytes: 2 ** 29,
      treeDir: '/var/cache/spotjobs-compile/portage',
      hibernate: { policy: 'hold', holdSeconds: 600 },
      cron: { prune: '0 */6 * * *' },
    });
  });

  it('names each wrong daemon setting', () => {
    let error: unknown;
    try {
      loadConfig({
        SPOTJOBS_COMPILE_CONCURRENCY: '0',
        SPOTJOBS_COMPILE_EXECUTOR: 'kubernetes',
        SPOTJOBS_COMPILE_BUILDER_IMAGE: 'gentoo; rm -rf /',
        SPOTJOBS_COMPILE_CACHE_DIR: 'relative/dir',
        SPOTJOBS_COMPILE_BUILD_MEMORY_MIB: 'lots',
        SPOTJOBS_COMPILE_WORKER_ID: 'worker one',
        SPOTJOBS_COMPILE_CRON_RECLAIM: 'every minute',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const issues = (error as ValidationError).issues.join('\n');
    for (const name of [
      'SPOTJOBS_COMPILE_CONCURRENCY',
      'SPOTJOBS_COMPILE_EXECUTOR',
      'SPOTJOBS_COMPILE_BUILDER_IMAGE',
      'SPOTJOBS_COMPILE_CACHE_DIR',
      'SPOTJOBS_COMPILE_BUILD_MEMORY_MIB',
      'SPOTJOBS_COMPILE_WORKER_ID',
      'SPOTJOBS_COMPILE_CRON_RECLAIM',
    ])
      expect(issues).toContain(name);
  });
});
