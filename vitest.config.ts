import { defineConfig } from 'vitest/config';

// Two tiers: unit tests need nothing; integration tests get the emulators that
// test/global-setup.ts starts on random loopback ports for the whole run.
export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'deploy/test/**/*.test.ts'],
          exclude: ['packages/*/test/**/*.int.test.ts', 'deploy/test/**/*.int.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.int.test.ts', 'deploy/test/**/*.int.test.ts'],
          globalSetup: ['./test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
