import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Builds the parity page into the git-ignored .cache/parity-page. ORT's .wasm files are
// served by the test from node_modules rather than bundled.
const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../.cache/parity-page', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    sourcemap: false,
  },
});
