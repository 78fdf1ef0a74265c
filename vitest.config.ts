import { defineConfig } from 'vitest/config';

// Unit tests live beside the code (src/**/*.test.ts, scripts/**/*.test.ts, bench/**/*.test.ts) and run in Node.
// Browser end-to-end tests (e2e/) have their own config: vitest.e2e.config.ts.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts'],
    environment: 'node',
    // t() reads the English message files outside an extension.
    setupFiles: ['src/locales/test-setup.ts'],
    testTimeout: 30_000,
  },
});
