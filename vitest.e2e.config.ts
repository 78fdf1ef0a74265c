import { defineConfig } from 'vitest/config';

// Browser end-to-end tests: `npx vitest run --config vitest.e2e.config.ts`.
// Real browsers on a 2-core machine: one test file at a time, one browser at a time, long timeouts.
export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['e2e/global-setup.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    sequence: { concurrent: false },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
